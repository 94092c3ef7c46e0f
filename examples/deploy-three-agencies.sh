#!/usr/bin/env bash
# The deployment guide (docs/DEPLOY.md, "Step by step: three agencies"), run as written: a PKI
# built with the axis-pki CLI (a passphrase per key), the server and agency configurations,
# check-config on each, the axis started, the agencies registered by the operator, a document
# exchanged among the three agencies with the axis CLI, a CRL refreshed and published. CI runs
# it; it exits non-zero at the first step that does not do what the guide says.
#
#   bash examples/deploy-three-agencies.sh                 # in a temporary directory, removed after
#   bash examples/deploy-three-agencies.sh --dir DIR       # in DIR (must not exist), kept
#   bash examples/deploy-three-agencies.sh --release       # release binaries (default: debug)
set -euo pipefail

NAME=deploy-three-agencies USAGE=2,11
# shellcheck source=examples/lib.sh
source "$(dirname "$0")/lib.sh"
ex_args "$@"
ex_need cargo openssl python3

step "0. Build axis-pki, axis-server and axis ($PROFILE)"
ex_build -p axis-pki-cli -p axis-server -p axis-client -- axis-pki axis-server axis
# The guide's commands, with these binaries.
axis-pki() { "$BIN/axis-pki" "$@"; }
axis-server() { "$BIN/axis-server" "$@"; }
axis() { "$BIN/axis" "$@"; }

ex_workdir axis-deploy
# No passphrase may come from the caller's environment: each key has its own file.
unset AXIS_PKI_CA_PASS AXIS_PKI_NEW_KEY_PASS AXIS_PKI_KEY_PASS AXIS_PKI_P12_PASS
unset AXIS_KEY_PASS AXIS_SERVER_KEY_PASS AXIS_CONFIG AXIS_LISTEN AXIS_DATABASE_URL AXIS_METRICS_LISTEN
PORT=$(free_port)
MPORT=$(free_port)

AGENCIES="000.00.00.G22 000.00.00.H41 000.00.00.H53"
short() { echo "$1" | tr 'A-Z' 'a-z' | cut -d. -f4; }   # 000.00.00.G22 -> g22
name_of() {
  case "$1" in
    000.00.00.G22) echo "Văn phòng Chính phủ" ;;
    000.00.00.H41) echo "UBND tỉnh Nghệ An" ;;
    000.00.00.H53) echo "UBND tỉnh Quảng Ninh" ;;
  esac
}
person_of() {
  case "$1" in
    000.00.00.G22) echo "Trần Văn Sơn|Phó Chủ nhiệm" ;;
    000.00.00.H41) echo "Nguyễn Thị Hoa|Phó Chủ tịch" ;;
    000.00.00.H53) echo "Lê Minh Đức|Chủ tịch" ;;
  esac
}

step "1. Passphrases: one per key"
mkdir -p secrets && chmod 700 secrets
keys="root state axis-tls axis-log operator h41-witness h53-witness g22-witness"
for id in $AGENCIES; do
  for k in tls seal personal encryption; do keys="$keys $(short "$id")-$k"; done
done
for k in $keys; do
  (umask 077 && openssl rand -base64 24 >"secrets/$k.pass")
done
export AXIS_PKI_DIR=$PWD/ca
say "$(ls secrets | wc -l) passphrase files in secrets/"

step "2. The root and an issuing CA"
axis-pki init --name "Axis Root CA" --org "Ban Cơ yếu Chính phủ" --new-key-pass-file secrets/root.pass
axis-pki ca --id state --name "CA for state agencies" --org "Ban Cơ yếu Chính phủ" \
  --ca-pass-file secrets/root.pass --new-key-pass-file secrets/state.pass

step "3. The axis's certificates: TLS, log signer, operator"
axis-pki issue --ca state --profile axis-server-tls --dns axis.example.vn --dns localhost --ip 127.0.0.1 \
  --ca-pass-file secrets/state.pass --new-key-pass-file secrets/axis-tls.pass \
  --out axis/pki --basename axis-server-tls
axis-pki issue --ca state --profile axis-log-signer --name "Axis log signer" \
  --ca-pass-file secrets/state.pass --new-key-pass-file secrets/axis-log.pass \
  --out axis/pki --basename axis-log-signer
axis-pki issue --ca state --profile axis-operator --name "Axis operator" \
  --ca-pass-file secrets/state.pass --new-key-pass-file secrets/operator.pass \
  --out operator --basename operator

step "4. Each agency's four certificates"
for id in $AGENCIES; do
  s=$(short "$id") name=$(name_of "$id") person=$(person_of "$id")
  for p in seal:agency-seal encryption:agency-encryption tls:agency-tls-client; do
    axis-pki issue --ca state --profile "${p#*:}" --agency-id "$id" --name "$name" \
      --ca-pass-file secrets/state.pass --new-key-pass-file "secrets/$s-${p%%:*}.pass" \
      --out "agencies/$id" --basename "${p%%:*}"
  done
  axis-pki issue --ca state --profile personal-signer --agency-id "$id" --name "${person%%|*}" \
    --title "${person#*|}" --org "$name" \
    --ca-pass-file secrets/state.pass --new-key-pass-file "secrets/$s-personal.pass" \
    --out "agencies/$id" --basename personal
done

step "4b. Two witnesses: H41 and H53 make witness keys (G22 one it never uses)"
for id in 000.00.00.H41 000.00.00.H53 000.00.00.G22; do
  s=$(short "$id")
  axis audit witness-key --out "agencies/$id/witness.key.pem" --public "agencies/$id/witness.pub.pem" \
    --passphrase-file "secrets/$s-witness.pass"
done

step "5. axis/axis-server.toml, each key with its own passphrase"
cat >axis/axis-server.toml <<EOF
listen = "127.0.0.1:$PORT"
metrics_listen = "127.0.0.1:$MPORT"
database_url = "sqlite://axis.db"

[tls]
cert = "pki/axis-server-tls.chain.pem"
key = "pki/axis-server-tls.key.pem"
passphrase_file = "../secrets/axis-tls.pass"

[log_signer]
cert = "pki/axis-log-signer.cert.pem"
key = "pki/axis-log-signer.key.pem"
passphrase_file = "../secrets/axis-log.pass"

[trust]
root = "../ca/root/root.cert.pem"
intermediates = ["../ca/cas/state/ca.cert.pem"]
crls = ["../ca/crl/root.crl.pem", "../ca/crl/state.crl.pem"]

[witnesses]
keys = ["../agencies/000.00.00.H41/witness.pub.pem", "../agencies/000.00.00.H53/witness.pub.pem"]
EOF
cat axis/axis-server.toml

step "6. The agencies' and the operator's axis.toml"
for id in $AGENCIES; do
  s=$(short "$id")
  {
    echo "agency = \"$id\""
    echo "endpoints = [\"https://127.0.0.1:$PORT\"]"
    echo "server_name = \"localhost\""
    echo "root = \"../../ca/root/root.cert.pem\""
    echo "log_key = \"../../axis/pki/axis-log-signer.cert.pem\""
    for t in tls seal personal encryption; do
      cert=$t.cert.pem
      [ "$t" = tls ] && cert=tls.chain.pem
      printf '\n[%s]\ncert = "%s"\nkey = "%s.key.pem"\npassphrase_file = "../../secrets/%s-%s.pass"\n' \
        "$t" "$cert" "$t" "$s" "$t"
    done
  } >"agencies/$id/axis.toml"
done
cat >operator/axis.toml <<EOF
endpoints = ["https://127.0.0.1:$PORT"]
server_name = "localhost"
root = "../ca/root/root.cert.pem"
log_key = "../axis/pki/axis-log-signer.cert.pem"

[tls]
cert = "operator.chain.pem"
key = "operator.key.pem"
passphrase_file = "../secrets/operator.pass"
EOF
cat agencies/000.00.00.G22/axis.toml

step "7. Check, then start"
axis-server check-config --config axis/axis-server.toml
# The binary itself, not the shell function: a backgrounded function is a subshell, and
# stopping it (cleanup) would leave the server running.
"$BIN/axis-server" --config axis/axis-server.toml >axis/server.log 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for _ in $(seq 1 150); do
  axis --config operator/axis.toml limits >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 axis/server.log >&2; fail "the server stopped"; }
  sleep 0.2
done
axis --config operator/axis.toml check-config

step "8. The operator registers the agencies"
for id in $AGENCIES; do
  axis --config operator/axis.toml directory register --id "$id" --name "$(name_of "$id")" \
    --seal-cert "agencies/$id/seal.cert.pem" --encryption-cert "agencies/$id/encryption.cert.pem"
done
for id in $AGENCIES; do
  axis --config "agencies/$id/axis.toml" check-config >"agencies/$id/check.txt" ||
    { cat "agencies/$id/check.txt"; fail "check-config of $id"; }
  grep -q "^ok   directory entry of $id" "agencies/$id/check.txt" || fail "$id not found in the directory"
done
cat agencies/000.00.00.G22/check.txt

step "9. Exchange among the three agencies"
G22=agencies/000.00.00.G22/axis.toml H41=agencies/000.00.00.H41/axis.toml H53=agencies/000.00.00.H53/axis.toml
mkdir -p outbox
printf '%s\n' '%PDF-1.4' '% Công văn số 7816/VPCP-TTĐT: V/v kết nối, liên thông văn bản' '%%EOF' >outbox/cong-van.pdf
ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
axis --config "$G22" send --to 000.00.00.H41 --to 000.00.00.H53 --code 7816/VPCP-TTĐT \
  --subject "V/v kết nối, liên thông văn bản" --message-id "$ID" outbox/cong-van.pdf
for r in H41 H53; do
  cfg=agencies/000.00.00.$r/axis.toml
  axis --config "$cfg" inbox | tee "inbox-$r.txt"
  grep -q "$ID" "inbox-$r.txt" || fail "$r did not find $ID in its inbox"
  axis --config "$cfg" open "$ID" --out "incoming-$r/$ID"
  cmp -s outbox/cong-van.pdf "incoming-$r/$ID/cong-van.pdf" || fail "$r opened different bytes"
  axis --config "$cfg" status "$ID" 03 --reason "Đã vào sổ văn bản đến"
done
printf '%s\n' '%PDF-1.4' '% Trả lời công văn 7816/VPCP-TTĐT' '%%EOF' >outbox/tra-loi.pdf
REPLY=$(python3 -c 'import uuid; print(uuid.uuid4())')
axis --config "$H53" send --to 000.00.00.G22 --code 15/UBND-VP --subject "V/v trả lời công văn 7816" \
  --message-id "$REPLY" outbox/tra-loi.pdf
axis --config "$G22" open "$REPLY" --out "incoming-G22/$REPLY"
cmp -s outbox/tra-loi.pdf "incoming-G22/$REPLY/tra-loi.pdf" || fail "G22 opened different bytes"
axis --config "$G22" history "$ID" | tee history.txt
for r in H41 H53; do
  grep -q "000.00.00.$r" history.txt || fail "no timeline for $r"
done
[ "$(grep -c '03' history.txt)" -ge 2 ] || fail "the history lacks the 03 statuses"
axis --config "$G22" history "$REPLY" >/dev/null

step "9b. The witnesses cosign the log's head"
LOGKEY=axis/pki/axis-log-signer.cert.pem ROOT=ca/root/root.cert.pem
for r in H41 H53; do
  a=agencies/000.00.00.$r
  axis --config "$a/axis.toml" audit witness --once --state "$a/witness.sth" --key "$a/witness.key.pem" \
    --passphrase-file "secrets/$(short "000.00.00.$r")-witness.pass" --log-key "$LOGKEY"
done
# The auditor verifies the document's evidence requiring both cosignatures (a version 3 bundle).
axis --config "$G22" audit export "$ID" --out evidence.axb
W="--witness agencies/000.00.00.H41/witness.pub.pem --witness agencies/000.00.00.H53/witness.pub.pem"
# shellcheck disable=SC2086 # two flags and their values
axis audit verify evidence.axb --root "$ROOT" --log-key "$LOGKEY" $W --min-witnesses 2 | tee verify.txt
grep -q "^VERIFIED" verify.txt || fail "the evidence did not verify with two witnesses"
grep -q "cosigned by 2 witness(es)" verify.txt || fail "the two witnesses' cosignatures were not counted"
# G22's witness key never cosigned: three required of three given is refused, naming the shortfall.
# shellcheck disable=SC2086
if axis audit verify evidence.axb --root "$ROOT" --log-key "$LOGKEY" $W \
  --witness agencies/000.00.00.G22/witness.pub.pem --min-witnesses 3 >verify-3.txt 2>&1; then
  cat verify-3.txt
  fail "three witnesses were required and two cosigned, yet the evidence verified"
fi
grep -q "cosigned by 2 of the 3 witnesses given, 3 required" verify-3.txt ||
  { cat verify-3.txt; fail "the refusal does not name the shortfall"; }

step "10. Keep the CRL fresh: issue and publish"
axis-pki crl --ca state --ca-pass-file secrets/state.pass
axis --config operator/axis.toml directory publish-crl ca/crl/state.crl.pem
axis --config "$H41" check-config | tee check-after-crl.txt
grep -q "^ok   CRL of .*CA for state agencies.*number 2" check-after-crl.txt || fail "the new CRL is not in force"
axis-server check-config --config axis/axis-server.toml | grep "CRL of"

step "11. check-config names a mistake"
sed 's|secrets/g22-seal.pass|secrets/h41-seal.pass|' "$G22" >agencies/000.00.00.G22/wrong.toml
if axis --config agencies/000.00.00.G22/wrong.toml check-config --offline >wrong.txt 2>&1; then
  cat wrong.txt
  fail "check-config accepted a wrong passphrase"
fi
grep "^FAIL" wrong.txt
grep -q "^FAIL \[seal\] key: .*does not decrypt" wrong.txt || fail "check-config did not name the seal key"

printf '\n%sThe guide worked as written: three agencies exchanged documents through the axis.%s\n' "$G" "$N"
