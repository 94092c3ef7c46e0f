#!/usr/bin/env bash
# Quick start: a complete local axis on embedded SQLite, a throw-away demo PKI, two demo
# agencies, and one real exchange over real mutual TLS:
#
#   000.00.00.G22 (Văn phòng Chính phủ) sends a signed, encrypted document with an attachment
#   → the axis accepts it and answers with a signed, logged receipt
#   → 000.00.00.H41 (UBND tỉnh Nghệ An) receives it, decrypts it, verifies both signatures
#   → H41 answers with receipt 01 (arrived) and status 03 (registered)
#   → G22 sees both in the document's verified history
#   → an auditor verifies the exported evidence offline with the root certificate and log key.
#
# Usage: bash examples/quickstart.sh        (starts over each time; data is left in axis-data/)
set -euo pipefail

case "${1:-}" in
  -h | --help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "quickstart: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
REPO=$(pwd)
DATA=axis-data
PORT=${AXIS_DEMO_PORT:-7443}

if [ -t 1 ]; then B=$'\033[1m' D=$'\033[2m' G=$'\033[32m' R=$'\033[31m' N=$'\033[0m'; else B= D= G= R= N=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '%s   %s%s\n' "$D" "$*" "$N"; }
show() {
  local line="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=,+-]+$ ]]; then line+=" $a"; else line+=" \"$a\""; fi
  done
  printf '%s$%s%s\n' "$B" "$line" "$N"
}

for tool in cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "quickstart: '$tool' is needed (see the README)" >&2; exit 1; }
done

step "1. Build the server and the CLI"
say "One release build (a few minutes the first time): axis-server and the axis CLI."
cargo build --release -q -p axis-server -p axis-client
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-${CARGO_TARGET_DIR:-$REPO/target}}
SERVER_BIN="$TARGET_DIR/release/axis-server"
AXIS_BIN="$TARGET_DIR/release/axis"
axis_server() { show axis-server "$@"; "$SERVER_BIN" "$@"; }
# `axis` as an agency: the first argument picks whose configuration.
as() {
  local who=$1; shift
  local cfg="$DATA/agencies/$who/axis.toml"
  [ "$who" = operator ] && cfg="$DATA/operator/axis/axis.toml"
  show axis --config "$cfg" "$@"
  "$AXIS_BIN" --config "$cfg" "$@"
}

SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

step "2. A throw-away PKI and configuration"
say "A demo root CA and a 'CA for state agencies' issue, with the real Axis profiles: the"
say "server's TLS and log-signer certificates, an operator, and for each agency a TLS-client,"
say "an agency-seal, a personal-signer and an encryption certificate. Keys are written"
say "encrypted; their passphrase is in $DATA/secrets/demo.pass."
if [ -e "$DATA" ] && [ ! -e "$DATA/axis-server.toml" ]; then
  echo "quickstart: $REPO/$DATA exists but is not a demo axis; move it away first" >&2
  exit 1
fi
axis_server demo --dir "$DATA" --fresh --demo-listen "127.0.0.1:$PORT"

step "3. Start the axis"
say "Embedded SQLite ($DATA/axis.db, WAL, fsync on every commit), gRPC over mutual TLS on"
say "127.0.0.1:$PORT, Prometheus metrics on http://127.0.0.1:9464/metrics. Log: $DATA/server.log"
show axis-server --config "$DATA/axis-server.toml" "&"
"$SERVER_BIN" --config "$DATA/axis-server.toml" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  "$AXIS_BIN" --config "$DATA/operator/axis/axis.toml" limits >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "${R}the server stopped; see $DATA/server.log$N" >&2; tail -5 "$DATA/server.log" >&2; exit 1; }
  sleep 0.2
done
say "Listening (pid $SERVER_PID)."

step "4. The operator registers the two agencies"
say "Only an operator certificate may change the directory. The axis checks that each"
say "certificate chains to the root, has the right profile, and names the same agency id."
for id in 000.00.00.G22 000.00.00.H41; do
  name="Văn phòng Chính phủ"; [ "$id" = 000.00.00.H41 ] && name="UBND tỉnh Nghệ An"
  as operator directory register --id "$id" --name "$name" \
    --encryption-cert "$DATA/agencies/$id/encryption.cert.pem" \
    --seal-cert "$DATA/agencies/$id/seal.cert.pem"
done

step "5. Văn phòng Chính phủ (000.00.00.G22) sends a document to Nghệ An (000.00.00.H41)"
say "The CLI hashes the attachments, signs the manifest twice (the person with authority,"
say "then the agency seal), encrypts everything for H41's encryption certificate only, signs"
say "the routing header, streams the ciphertext, and verifies the axis's signed receipt."
mkdir -p "$DATA/outbox"
OUT="$DATA/outbox"
printf '%s\n' '%PDF-1.4' '% Công văn số 7816/VPCP-TTĐT: V/v kết nối, liên thông văn bản' '%%EOF' >"$OUT/cong-van.pdf"
printf 'STT,Đơn vị,Trạng thái\n1,UBND tỉnh Nghệ An,Đã kết nối\n' >"$OUT/phu-luc.csv"
MESSAGE_ID=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || python3 -c 'import uuid; print(uuid.uuid4())')
as 000.00.00.G22 send --to 000.00.00.H41 --code 7816/VPCP-TTĐT \
  --subject "V/v kết nối, liên thông văn bản" --message-id "$MESSAGE_ID" \
  "$OUT/cong-van.pdf" "$OUT/phu-luc.csv"

step "6. Nghệ An looks at its inbox"
say "The axis wrote the document durably before it answered; it is waiting for H41."
as 000.00.00.H41 inbox

step "7. Nghệ An opens it"
say "Fetch the ciphertext, unwrap the content key with H41's private key, decrypt and check"
say "every chunk, verify both signatures and every attachment's SHA-256 — then send the"
say "signed delivery receipt (status 01, 'đã đến') back through the axis, which verifies it"
say "and logs it."
as 000.00.00.H41 open "$MESSAGE_ID" --out "$DATA/inbox/$MESSAGE_ID"
if cmp -s "$OUT/cong-van.pdf" "$DATA/inbox/$MESSAGE_ID/cong-van.pdf" &&
  cmp -s "$OUT/phu-luc.csv" "$DATA/inbox/$MESSAGE_ID/phu-luc.csv"; then
  say "${G}The opened files are byte for byte the ones G22 sent.${N}"
else
  echo "${R}the opened files differ from the sent ones${N}" >&2
  exit 1
fi

step "8. Nghệ An registers it (status 03, 'đã tiếp nhận')"
as 000.00.00.H41 status "$MESSAGE_ID" 03 --reason "Đã vào sổ văn bản đến"

step "9. Văn phòng Chính phủ sees what happened"
say "Every entry below is a signature by H41's seal, chained to the previous one, and proven"
say "to be in the axis's signed Merkle log."
as 000.00.00.G22 history "$MESSAGE_ID"

step "10. An auditor checks the evidence offline"
say "G22 exports one file with everything needed: the signed header, every receipt and status,"
say "the certificate chains, the CRLs in force at each signing time, a signed tree head and"
say "the inclusion proofs. The auditor needs only the root certificate and the log key — no"
say "axis, no network, no trust in the operator."
as 000.00.00.G22 audit export "$MESSAGE_ID" --out "$DATA/evidence-$MESSAGE_ID.axb"
show axis audit verify "$DATA/evidence-$MESSAGE_ID.axb" --root "$DATA/pki/root.cert.pem" \
  --log-key "$DATA/pki/axis-log-signer.cert.pem"
"$AXIS_BIN" audit verify "$DATA/evidence-$MESSAGE_ID.axb" --root "$DATA/pki/root.cert.pem" \
  --log-key "$DATA/pki/axis-log-signer.cert.pem"

step "11. Stop the axis"
cleanup
SERVER_PID=
say "Stopped gracefully. Everything is kept in $DATA/ — start it again and try the CLI:"
say "  $SERVER_BIN --config $DATA/axis-server.toml &"
say "  $AXIS_BIN --config $DATA/agencies/000.00.00.H41/axis.toml inbox"
say "  $AXIS_BIN --config $DATA/agencies/000.00.00.G22/axis.toml history $MESSAGE_ID"
printf '\n%sA real, verified exchange: done.%s\n' "$G" "$N"
