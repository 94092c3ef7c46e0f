#!/usr/bin/env bash
# A whole Axis PKI in one command, checked against stock OpenSSL.
#
#   bash examples/pki-walkthrough.sh           # builds ./demo-pki (refuses if it exists)
#   bash examples/pki-walkthrough.sh --fresh   # removes ./demo-pki first
#
# Builds the axis-pki CLI, then: an RSA-4096 root, an issuing "CA for state agencies", the seal,
# personal-signer, encryption and TLS-client certificates of two agencies (000.00.00.G22, the
# Government Office, and 000.00.00.H41, a province), the axis server's TLS, log-signer and
# operator certificates; revokes one, publishes the CRL, lists everything, and verifies every
# certificate with both `axis-pki verify` and `openssl verify -crl_check_all`. Exits 1 if the two
# ever disagree.
set -euo pipefail

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0"; }

fresh=0
for arg in "$@"; do
  case "$arg" in
    --fresh) fresh=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "pki-walkthrough: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
REPO=$(pwd)
# Relative to the repository root, where the script runs, so that paths print short.
DEMO=demo-pki

if [ -t 1 ]; then B=$'\033[1m' D=$'\033[2m' G=$'\033[32m' R=$'\033[31m' N=$'\033[0m'; else B= D= G= R= N=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '%s   %s%s\n' "$D" "$*" "$N"; }
# Echo a command as one would type it (arguments with spaces or symbols in double quotes).
show() {
  local line="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=,+-]+$ ]]; then line+=" $a"; else line+=" \"$a\""; fi
  done
  printf '%s$%s%s\n' "$B" "$line" "$N"
}
run() { show "$@"; "$@"; }

for tool in cargo openssl; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "pki-walkthrough: '$tool' is needed (see the README's Quick start)" >&2
    exit 1
  }
done

if [ -e "$DEMO" ]; then
  if [ "$fresh" = 1 ]; then
    rm -rf "$DEMO"
  else
    echo "pki-walkthrough: $REPO/$DEMO already exists; run with --fresh to remove it and start over" >&2
    exit 1
  fi
fi

# ---------------------------------------------------------------------------------------------
step "1. Build the axis-pki CLI"
say "One release build; the binary then runs each step below."
cargo build --release -q -p axis-pki-cli
# Where cargo put it: honours CARGO_TARGET_DIR and any build.target-dir setting.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-${CARGO_TARGET_DIR:-$REPO/target}}
AXIS_PKI="$TARGET_DIR/release/axis-pki"
[ -x "$AXIS_PKI" ] || { echo "pki-walkthrough: $AXIS_PKI was not built" >&2; exit 1; }
say "Built $AXIS_PKI (shown as 'axis-pki' below)"
axis_pki() { show axis-pki "$@"; "$AXIS_PKI" "$@"; }

# ---------------------------------------------------------------------------------------------
step "2. Demo passphrases"
say "axis-pki never takes a passphrase on the command line (it would show in 'ps' and shell"
say "history): each comes from a file (--ca-pass-file, --new-key-pass-file, ...) or an"
say "environment variable. Here: random ones in demo-pki/secrets/, readable only by you."
mkdir -p "$DEMO/secrets"
chmod 700 "$DEMO/secrets"
SECRETS="$DEMO/secrets"
for name in root state-ca g22 h41 axis p12; do
  (umask 077 && openssl rand -base64 24 >"$SECRETS/$name.pass")
  chmod 600 "$SECRETS/$name.pass"
done
ls -l "$SECRETS"

export AXIS_PKI_DIR="$DEMO/ca"
# Make sure no passphrase from the caller's environment is used instead of the demo files.
unset AXIS_PKI_CA_PASS AXIS_PKI_NEW_KEY_PASS AXIS_PKI_KEY_PASS AXIS_PKI_P12_PASS
unset AXIS_PKI_CA_PASS_FILE AXIS_PKI_NEW_KEY_PASS_FILE AXIS_PKI_KEY_PASS_FILE AXIS_PKI_P12_PASS_FILE
say "AXIS_PKI_DIR=$AXIS_PKI_DIR is the CA directory every command below works on."

# ---------------------------------------------------------------------------------------------
step "3. The root CA"
say "The trust anchor: a self-signed RSA-4096 certificate. Its key is written encrypted"
say "(PKCS#8, AES-256, 600,000 PBKDF2 rounds) with mode 0600; in production it stays offline."
say "The root also publishes its first CRL (number 1), so its issuing CAs can be revoked."
axis_pki init --name "Axis Root CA" --org "Ban Cơ yếu Chính phủ (demo)" \
  --new-key-pass-file "$SECRETS/root.pass"

# ---------------------------------------------------------------------------------------------
step "4. An issuing CA"
say "The root signs only issuing CAs; issuing CAs (path length 0) sign only end-entity"
say "certificates. --ca-pass-file unlocks the root key, --new-key-pass-file protects the new one."
axis_pki ca --id state --name "CA for state agencies" --org "Ban Cơ yếu Chính phủ (demo)" \
  --ca-pass-file "$SECRETS/root.pass" --new-key-pass-file "$SECRETS/state-ca.pass"

# ---------------------------------------------------------------------------------------------
step "5. Certificates for two agencies"
say "Each profile fixes key usage, EKU and validity; the agency id (mã định danh) is bound in"
say "the subject's organizationIdentifier. Keys are generated here and written encrypted."
issue_agency() { # id dir agency person title
  local id=$1 dir=$2 agency=$3 person=$4 title=$5
  for profile in agency-seal agency-encryption agency-tls-client; do
    axis_pki issue --ca state --profile "$profile" --agency-id "$id" --name "$agency" \
      --ca-pass-file "$SECRETS/state-ca.pass" --new-key-pass-file "$SECRETS/$dir.pass" \
      --out "$DEMO/issued/$dir"
  done
  axis_pki issue --ca state --profile personal-signer --agency-id "$id" --name "$person" \
    --title "$title" --org "$agency" \
    --ca-pass-file "$SECRETS/state-ca.pass" --new-key-pass-file "$SECRETS/$dir.pass" \
    --out "$DEMO/issued/$dir"
}
issue_agency 000.00.00.G22 g22 "Văn phòng Chính phủ" "Trần Văn Sơn" "Bộ trưởng, Chủ nhiệm"
issue_agency 000.00.00.H41 h41 "UBND tỉnh Nghệ An" "Nguyễn Thị Hoa" "Phó Chủ tịch"

# ---------------------------------------------------------------------------------------------
step "6. Certificates for the axis itself"
say "The server's TLS certificate names its DNS name and IP; the log signer signs receipts and"
say "tree heads; the operator certificate is an administrator's TLS client."
axis_pki issue --ca state --profile axis-server-tls --dns localhost --ip 127.0.0.1 \
  --ca-pass-file "$SECRETS/state-ca.pass" --new-key-pass-file "$SECRETS/axis.pass" \
  --out "$DEMO/issued/axis"
axis_pki issue --ca state --profile axis-log-signer --name "Axis log signer" --basename axis-log-signer \
  --ca-pass-file "$SECRETS/state-ca.pass" --new-key-pass-file "$SECRETS/axis.pass" \
  --out "$DEMO/issued/axis"
axis_pki issue --ca state --profile axis-operator --name "Axis operator" --basename axis-operator \
  --ca-pass-file "$SECRETS/state-ca.pass" --new-key-pass-file "$SECRETS/axis.pass" \
  --out "$DEMO/issued/axis"

# ---------------------------------------------------------------------------------------------
step "7. Revoke one certificate"
say "Say the province's TLS-client key leaked. Revoking records it in the index and publishes"
say "the issuing CA's new CRL (number 2) in the same locked step."
REVOKED="$DEMO/issued/h41/000.00.00.H41-agency-tls-client.cert.pem"
SERIAL=$(openssl x509 -noout -serial -in "$REVOKED" | cut -d= -f2)
axis_pki revoke --serial "$SERIAL" --reason key-compromise --ca-pass-file "$SECRETS/state-ca.pass"

# ---------------------------------------------------------------------------------------------
step "8. Publish the CRL"
say "A CRL is current until its next update (7 days for an issuing CA); relying parties reject"
say "every certificate of a CA whose CRL went stale, so this runs regularly (e.g. from cron)."
axis_pki crl --ca state --ca-pass-file "$SECRETS/state-ca.pass"
say "What stock openssl reads in it (CRL number, the revoked serial, the reason):"
openssl crl -in "$AXIS_PKI_DIR/crl/state.crl.pem" -noout -text -nameopt utf8 | sed '/Signature Value/,$d'

# ---------------------------------------------------------------------------------------------
step "9. Export a PKCS#12 bundle"
say "An agency's key and chain in one file for Java, .NET and Windows tooling."
axis_pki export --cert "$DEMO/issued/g22/000.00.00.G22-agency-seal.cert.pem" \
  --key "$DEMO/issued/g22/000.00.00.G22-agency-seal.key.pem" --key-pass-file "$SECRETS/g22.pass" \
  --p12-pass-file "$SECRETS/p12.pass" --out "$DEMO/issued/g22/000.00.00.G22-agency-seal.p12"
run openssl pkcs12 -info -noout -in "$DEMO/issued/g22/000.00.00.G22-agency-seal.p12" \
  -passin "file:$SECRETS/p12.pass"

# ---------------------------------------------------------------------------------------------
step "10. Everything the CAs issued"
axis_pki list

# ---------------------------------------------------------------------------------------------
step "11. axis-pki and stock openssl verify every certificate"
say "axis-pki verify: chain to the root, validity, revocation (failing closed) and profile."
say "openssl verify -x509_strict -crl_check_all: the independent judge, with the same root,"
say "issuing CA and CRLs. They must agree on every certificate."
ROOT_CERT="$AXIS_PKI_DIR/root/root.cert.pem"
CA_CERT="$AXIS_PKI_DIR/cas/state/ca.cert.pem"
certs=("$CA_CERT")
for dir in g22 h41 axis; do
  for c in "$DEMO/issued/$dir"/*.cert.pem; do certs+=("$c"); done
done

printf '\n%-52s | %-20s | %-20s\n' "certificate" "axis-pki" "openssl"
printf '%s\n' "-----------------------------------------------------+----------------------+---------------------"
agree=0 disagree=0 revoked_rejected=0
for cert in "${certs[@]}"; do
  if axis_out=$("$AXIS_PKI" verify "$cert" 2>&1); then
    axis="valid"
  else
    case "$axis_out" in
      *"was revoked"*) axis="REJECTED (revoked)" ;;
      *) axis="REJECTED" ;;
    esac
  fi
  if ossl_out=$(openssl verify -x509_strict -CAfile "$ROOT_CERT" -untrusted "$CA_CERT" \
    -crl_check_all -CRLfile "$AXIS_PKI_DIR/crl/root.crl.pem" \
    -CRLfile "$AXIS_PKI_DIR/crl/state.crl.pem" "$cert" 2>&1); then
    ossl="valid"
  else
    case "$ossl_out" in
      *"certificate revoked"*) ossl="REJECTED (revoked)" ;;
      *) ossl="REJECTED" ;;
    esac
  fi
  if [ "$cert" = "$REVOKED" ] && [ "$axis" != valid ] && [ "$ossl" != valid ]; then
    revoked_rejected=1
  fi
  name=${cert#"$DEMO/"}
  if [ "${axis%% *}" = "${ossl%% *}" ]; then
    agree=$((agree + 1))
    printf '%-52s | %-20s | %-20s\n' "$name" "$axis" "$ossl"
  else
    disagree=$((disagree + 1))
    printf '%s%-52s | %-20s | %-20s  <- DISAGREE%s\n' "$R" "$name" "$axis" "$ossl" "$N"
    printf '    axis-pki: %s\n    openssl:  %s\n' "$axis_out" "$ossl_out"
  fi
done

echo
if [ "$disagree" -eq 0 ] && [ "$revoked_rejected" -eq 1 ]; then
  printf '%saxis-pki and openssl agree on all %d certificates; both reject the revoked one.%s\n' \
    "$G" "$agree" "$N"
elif [ "$disagree" -eq 0 ]; then
  printf '%saxis-pki and openssl agree on all %d certificates, but the revoked one was not rejected.%s\n' \
    "$R" "$agree" "$N"
  exit 1
else
  printf '%saxis-pki and openssl DISAGREE on %d of %d certificates.%s\n' \
    "$R" "$disagree" "$((agree + disagree))" "$N"
  exit 1
fi

cat <<EOF

Explore what was made (in $REPO):
  alias axis-pki=$AXIS_PKI
  export AXIS_PKI_DIR=$DEMO/ca
  ls -R $DEMO
  axis-pki verify $DEMO/issued/g22/000.00.00.G22-personal-signer.cert.pem
  openssl x509 -in $DEMO/issued/g22/000.00.00.G22-agency-seal.cert.pem -noout -text
  axis-pki --help
Start over with: bash examples/pki-walkthrough.sh --fresh
EOF
