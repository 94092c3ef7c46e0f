#!/usr/bin/env bash
# README, "Keys on PKCS#11 tokens and HSMs", run as written on SoftHSM 2: a deployment where no
# private key exists outside a token. The root and issuing CA keys on a CA token, the axis's TLS
# and log-signer keys on the node's token, the operator's key on its own, and each of two
# agencies' four keys (TLS client, seal, personal, encryption) on the agency's token; every key
# generated on its token by axis-pki and certified there (one through a CSR); check-config on
# each configuration; a document exchanged, opened, receipted and its history verified with the
# axis CLI; openssl verifies the certificates. CI runs it; it exits non-zero at the first step
# that does not do what the README says, and fails if a key file exists anywhere at the end.
#
#   bash examples/deploy-on-tokens.sh                 # in a temporary directory, removed after
#   bash examples/deploy-on-tokens.sh --dir DIR       # in DIR (must not exist), kept
#   bash examples/deploy-on-tokens.sh --release       # release binaries (default: debug)
set -euo pipefail

NAME=deploy-on-tokens USAGE=2,13
# shellcheck source=examples/lib.sh
source "$(dirname "$0")/lib.sh"
ex_args "$@"
M=/usr/lib/softhsm/libsofthsm2.so
ex_need cargo openssl python3
command -v softhsm2-util >/dev/null 2>&1 || fail "'softhsm2-util' is needed (apt-get install softhsm2)"
[ -e "$M" ] || fail "$M is missing (apt-get install softhsm2)"

step "0. Build axis-pki, axis-server and axis ($PROFILE)"
ex_build -p axis-pki-cli -p axis-server -p axis-client -- axis-pki axis-server axis
axis-pki() { "$BIN/axis-pki" "$@"; }
axis-server() { "$BIN/axis-server" "$@"; }
axis() { "$BIN/axis" "$@"; }

ex_workdir axis-tokens
unset AXIS_PKI_CA_PASS AXIS_PKI_NEW_KEY_PASS AXIS_PKI_KEY_PASS AXIS_PKCS11_MODULE

PORT=$(free_port)
MPORT=$(free_port)

step "1. Tokens (SoftHSM 2, its own token directory); a PIN file each"
mkdir tokens pins
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$DIR" >softhsm2.conf
export SOFTHSM2_CONF=$DIR/softhsm2.conf
SO_PIN=$(python3 -c 'import secrets; print(secrets.token_hex(8))')
for t in ca axis-node operator g22 h41; do
  python3 -c 'import secrets; print(secrets.token_hex(8))' >pins/$t.pin
  chmod 600 pins/$t.pin
  softhsm2-util --init-token --free --label $t --so-pin "$SO_PIN" --pin "$(cat pins/$t.pin)" >/dev/null
done
# The URI of key $2 on token $1, its PIN from the token's file.
uri() { printf 'pkcs11:token=%s;object=%s?module-path=%s&pin-source=file:%s/pins/%s.pin' "$1" "$2" "$M" "$DIR" "$1"; }

step "2. The PKI: root and issuing CA keys generated on the CA token"
export AXIS_PKI_DIR=$DIR/ca
axis-pki init --name "Axis Root CA" --key "$(uri ca root)"
axis-pki ca --id state --name "CA for state agencies" --key "$(uri ca state)"

step "3. The axis's TLS and log-signer keys, and the operator's, each generated on its token"
axis-pki issue --ca state --profile axis-server-tls --dns localhost --key "$(uri axis-node axis-tls)" \
    --out ./axis --basename tls
axis-pki issue --ca state --profile axis-log-signer --name "Axis log signer" \
    --key "$(uri axis-node axis-log)" --out ./axis --basename log
axis-pki issue --ca state --profile axis-operator --name "Axis operator" \
    --key "$(uri operator operator)" --out ./operator --basename operator

step "4. Each agency's four keys on its token (README 2a); G22's seal through a CSR (2b)"
agency_keys() { # token id name person title
  for p in agency-tls-client agency-encryption; do
    axis-pki issue --ca state --profile $p --agency-id "$2" --name "$3" --key "$(uri "$1" $p)" \
        --out "./$1" --basename $p
  done
  axis-pki issue --ca state --profile personal-signer --agency-id "$2" --name "$4" --title "$5" \
      --key "$(uri "$1" personal)" --out "./$1" --basename personal
}
agency_keys g22 000.00.00.G22 "Văn phòng Chính phủ" "Trần Văn Sơn" "Chánh Văn phòng"
agency_keys h41 000.00.00.H41 "UBND tỉnh Nghệ An" "Nguyễn Thị Hoa" "Phó Chủ tịch"
axis-pki issue --ca state --profile agency-seal --agency-id 000.00.00.H41 --name "UBND tỉnh Nghệ An" \
    --key "$(uri h41 agency-seal)" --out ./h41 --basename agency-seal
# 2b: the key already on the agency's token (here generated there, as the token's own tool
# would), a request signed with it, the certificate issued from the request alone.
axis-pki issue --ca state --profile agency-seal --agency-id 000.00.00.G22 --name "Văn phòng Chính phủ" \
    --key "$(uri g22 agency-seal)" --out ./scratch --basename discarded
axis-pki csr --profile agency-seal --agency-id 000.00.00.G22 --name "Văn phòng Chính phủ" \
    --key "$(uri g22 agency-seal)" --out g22-seal.csr
axis-pki issue --ca state --profile agency-seal --csr g22-seal.csr --out ./g22 --basename agency-seal

step "5. openssl verifies every certificate against the root"
for c in axis/tls.cert.pem axis/log.cert.pem operator/operator.cert.pem g22/*.cert.pem h41/*.cert.pem; do
  openssl verify -CAfile ca/root/root.cert.pem -untrusted ca/cas/state/ca.cert.pem "$c" >/dev/null \
    || fail "openssl does not verify $c"
done

step "6. Configurations: every key by its URI"
cat >axis/axis-server.toml <<EOF
listen = "127.0.0.1:$PORT"
metrics_listen = "127.0.0.1:$MPORT"
database_url = "sqlite://$DIR/axis/axis.db"

[tls]
cert = "tls.chain.pem"
key = "pkcs11:token=axis-node;object=axis-tls?module-path=$M"
passphrase_file = "$DIR/pins/axis-node.pin"   # the token's PIN

[log_signer]
cert = "log.cert.pem"
key = "$(uri axis-node axis-log)"

[trust]
root = "../ca/root/root.cert.pem"
intermediates = ["../ca/cas/state/ca.cert.pem"]
crls = ["../ca/crl/root.crl.pem", "../ca/crl/state.crl.pem"]
EOF
common() {
  echo "endpoints = [\"https://127.0.0.1:$PORT\"]"
  echo 'server_name = "localhost"'
  echo 'root = "../ca/root/root.cert.pem"'
  echo 'log_key = "../axis/log.cert.pem"'
}
{ common; printf '\n[tls]\ncert = "operator.chain.pem"\nkey = "%s"\n' "$(uri operator operator)"; } >operator/axis.toml
for a in g22:000.00.00.G22 h41:000.00.00.H41; do
  t=${a%%:*}
  {
    echo "agency = \"${a#*:}\""
    common
    printf '\n[tls]\ncert = "agency-tls-client.chain.pem"\nkey = "%s"\n' "$(uri "$t" agency-tls-client)"
    printf '[seal]\ncert = "agency-seal.cert.pem"\nkey = "%s"\n' "$(uri "$t" agency-seal)"
    printf '[personal]\ncert = "personal.cert.pem"\nkey = "%s"\n' "$(uri "$t" personal)"
    printf '[encryption]\ncert = "agency-encryption.cert.pem"\nkey = "%s"\n' "$(uri "$t" agency-encryption)"
  } >"$t/axis.toml"
done
cat g22/axis.toml

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
axis --config operator/axis.toml directory register --id 000.00.00.G22 --name "Văn phòng Chính phủ" \
    --seal-cert g22/agency-seal.cert.pem --encryption-cert g22/agency-encryption.cert.pem
axis --config operator/axis.toml directory register --id 000.00.00.H41 --name "UBND tỉnh Nghệ An" \
    --seal-cert h41/agency-seal.cert.pem --encryption-cert h41/agency-encryption.cert.pem
for t in g22 h41; do
  out=$(axis --config $t/axis.toml check-config)
  echo "$out"
  [ "$(grep -c "key: pkcs11:.* is the certificate's key" <<<"$out")" = 4 ] \
    || fail "$t: check-config did not find all four keys on the token"
done

step "8. Exchange: G22 sends to H41, H41 opens (ECDH/RSA-OAEP on its token) and accepts"
head -c 20000 /dev/urandom >cong-van.pdf
SENT=$(axis --config g22/axis.toml send --to 000.00.00.H41 --code 7816/VPCP-TTĐT \
    --subject "V/v kết nối, liên thông văn bản" cong-van.pdf)
echo "$SENT"
MID=$(awk '/^message /{print $2}' <<<"$SENT")
[ -n "$MID" ] || fail "send printed no message id"
axis --config h41/axis.toml inbox
axis --config h41/axis.toml open "$MID" --out incoming/
cmp -s incoming/cong-van.pdf cong-van.pdf || fail "the opened attachment differs from the one sent"
axis --config h41/axis.toml status "$MID" 03
HISTORY=$(axis --config g22/axis.toml history "$MID")
echo "$HISTORY"
grep -q "03 accepted" <<<"$HISTORY" || fail "G22's history lacks H41's 03"
grep -q "every entry verified" <<<"$HISTORY" || fail "G22's history was not verified"

step "9. No private key outside a token"
KEYS=$(find . -path ./tokens -prune -o \( -name '*.key.pem' -o -name '*.p12' -o -name '*.pfx' \) -print)
[ -z "$KEYS" ] || fail "key files exist: $KEYS"
grep -rl "PRIVATE KEY" --exclude-dir=tokens . && fail "a PEM private key exists outside the tokens"
echo "   none: every private key is on a token"
printf '\ndeploy-on-tokens: the README token deployment works end to end\n'
