#!/usr/bin/env bash
# The gateway demo: the quick start's axis (a throw-away PKI, Văn phòng Chính phủ 000.00.00.G22
# and UBND tỉnh Nghệ An 000.00.00.H41), an axis-gateway beside each agency's DMS, and a DMS
# session in curl against each of the gateway's APIs, narrated:
#
#   VXP-compatible API (what VNPT's VXP SDK sends; the XroadVnpt-* HMAC computed here with
#   openssl): G22's DMS sends an edXML document → H41's DMS lists it, gets it equal to what was
#   sent, acknowledges it, answers with status 03 → G22's DMS gets 01 (automatic) and 03.
#   JSON API (OpenAPI 3): G22's DMS sends JSON metadata and a file → H41's DMS reads it with
#   G22's verified signature report, answers 03 → G22 reads the verified history, exports the
#   evidence, and `axis audit verify` checks it offline.
#
# CI runs it; it exits non-zero at the first step that does not do what it says.
#
#   bash examples/gateway-demo.sh                 # in a temporary directory, removed after
#   bash examples/gateway-demo.sh --dir DIR       # in DIR (must not exist), kept
#   bash examples/gateway-demo.sh --release       # release binaries (default: debug)
set -euo pipefail

NAME=gateway-demo USAGE=2,17
# shellcheck source=examples/lib.sh
source "$(dirname "$0")/lib.sh"
ex_args "$@"
ex_need cargo curl openssl python3
show() { printf '%s$ %s%s\n' "$B" "$*" "$N"; }

step "0. Build axis-server, axis and axis-gateway ($PROFILE)"
ex_build -p axis-server -p axis-client -p axis-gateway -- axis-server axis axis-gateway

ex_workdir axis-gateway-demo
unset AXIS_KEY_PASS AXIS_SERVER_KEY_PASS AXIS_CONFIG AXIS_LISTEN AXIS_DATABASE_URL \
  AXIS_METRICS_LISTEN AXIS_GATEWAY_CONFIG
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
MPORT=$(free_port)
DATA=axis-data

# A field of a JSON file: jget FILE 'python expression over j'.
jget() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# Waits up to 60 s for a command to succeed.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 300); do "$@" && return 0; sleep 0.2; done
  fail "$what: not within 60 s"
}
# What a DMS checks in an edXML package: header fields and each attachment's SHA-256 (of its
# content: a zipped attachment is unzipped, as the zip itself may be written anew).
edxml_facts() {
  python3 - "$1" <<'EOF' | sort
import base64, hashlib, io, sys, zipfile, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def local(e): return e.tag.rsplit('}', 1)[-1]
out = []
for e in root.iter():
    if local(e) in ('DocumentId', 'Subject', 'CodeNumber', 'CodeNotation', 'OrganId', 'FullName'):
        out.append(f"{local(e)}={(e.text or '').strip()}")
    if local(e) == 'Attachment':
        name = next(c.text for c in e if local(c) == 'AttachmentName')
        data = next(c.text for c in e if local(c) == 'ContentTransferEncoded')
        raw = base64.b64decode(data)
        if raw.startswith(b'PK\x03\x04'):
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                for m in z.namelist():
                    out.append(f"attachment {name}:{m} sha256={hashlib.sha256(z.read(m)).hexdigest()}")
        else:
            out.append(f"attachment {name} sha256={hashlib.sha256(raw).hexdigest()}")
print("\n".join(out))
EOF
}

step "1. The quick start's axis: a throw-away PKI, two agencies, the axis on 127.0.0.1:$PORT"
show axis-server demo --dir $DATA --fresh --demo-listen 127.0.0.1:$PORT
"$BIN/axis-server" demo --dir "$DATA" --fresh --demo-listen "127.0.0.1:$PORT" >/dev/null
"$BIN/axis-server" --config "$DATA/axis-server.toml" --metrics-listen "127.0.0.1:$MPORT" \
  >server.log 2>&1 &
PIDS+=($!)
OPERATOR="$DATA/operator/axis/axis.toml"
wait_for "the axis starting (see $DIR/server.log)" "$BIN/axis" --config "$OPERATOR" limits
for id in 000.00.00.G22 000.00.00.H41; do
  name="Văn phòng Chính phủ"; [ "$id" = 000.00.00.H41 ] && name="UBND tỉnh Nghệ An"
  "$BIN/axis" --config "$OPERATOR" directory register --id "$id" --name "$name" \
    --encryption-cert "$DATA/agencies/$id/encryption.cert.pem" \
    --seal-cert "$DATA/agencies/$id/seal.cert.pem" >/dev/null
done
ok "the axis runs; the operator registered G22 and H41"

step "2. A gateway beside each agency's DMS"
say "Each gateway reads its agency's own axis.toml (its keys never leave the gateway), keeps a"
say "durable outbox and inbox in SQLite, and listens on loopback. Each DMS gets a systemid and"
say "an HMAC secret for the VXP API, and a bearer token for the JSON API."
declare -A GPORT SECRET TOKEN SYS
for short in g22 h41; do
  id=000.00.00.${short^^}
  GPORT[$short]=$(free_port)
  SYS[$short]="vxp.saas.$short"
  mkdir -p "gw-$short/secrets" && chmod 700 "gw-$short/secrets"
  (umask 077 && openssl rand -hex 24 >"gw-$short/secrets/dms.secret" &&
    openssl rand -hex 24 >"gw-$short/secrets/json.token")
  SECRET[$short]=$(cat "gw-$short/secrets/dms.secret")
  TOKEN[$short]=$(cat "gw-$short/secrets/json.token")
  cat >"gw-$short/axis-gateway.toml" <<EOF
agency_config = "../$DATA/agencies/$id/axis.toml"
listen = "127.0.0.1:${GPORT[$short]}"
data_dir = "data"
status_poll_secs = 1

[[vxp.systems]]
id = "${SYS[$short]}"
secret_file = "secrets/dms.secret"

[json]
token_file = "secrets/json.token"
EOF
done
show cat gw-g22/axis-gateway.toml
cat gw-g22/axis-gateway.toml
show axis-gateway --config gw-g22/axis-gateway.toml trust-info
"$BIN/axis-gateway" --config gw-g22/axis-gateway.toml trust-info
for short in g22 h41; do
  "$BIN/axis-gateway" --config "gw-$short/axis-gateway.toml" >"gw-$short/gateway.log" 2>&1 &
  PIDS+=($!)
done
for short in g22 h41; do
  wait_for "gateway $short starting (see $DIR/gw-$short/gateway.log)" \
    curl -sf -o /dev/null "http://127.0.0.1:${GPORT[$short]}/healthz"
done
ok "gateway G22 on 127.0.0.1:${GPORT[g22]}, gateway H41 on 127.0.0.1:${GPORT[h41]}"

# ---------------------------------------------------------------------------------------------
# A VXP call as VNPT's SDK makes it: every parameter in an XroadVnpt-<name> header, a JSON object
# of them signed with HMAC-SHA256 under the system's secret (XroadVnpt-sign-header and
# XroadVnpt-hash-header). vxp AGENCY CALL OUT [name=value ...] [-- curl arguments]
vxp() {
  local who=$1 call=$2 out=$3; shift 3
  local pairs=("timestamp=01122026T120000+0700" "systemid=${SYS[$who]}") p k v
  while [ $# -gt 0 ] && [ "$1" != -- ]; do pairs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  local sign="" names="" hdr=()
  for p in "${pairs[@]}"; do
    k="XroadVnpt-${p%%=*}" v="${p#*=}"
    sign+="${sign:+,}\"$k\":\"$v\"" names+="${names:+;}$k"
    hdr+=(-H "$k: $v")
  done
  sign="{$sign}"
  local hash
  hash=$(printf '%s' "$sign" | openssl dgst -sha256 -hmac "${SECRET[$who]}" -r | cut -d' ' -f1)
  show "curl -X POST http://127.0.0.1:${GPORT[$who]}/$call -H 'XroadVnpt-sign-header: $sign'" \
    "-H 'XroadVnpt-hash-header: ${hash:0:16}…' $*"
  [ $# -gt 0 ] || set -- -H 'Content-Type: application/x-www-form-urlencoded' --data-binary ''
  curl -sS -X POST "${hdr[@]}" -H "XroadVnpt-sign-header-key: $names" \
    -H "XroadVnpt-sign-header: $sign" -H "XroadVnpt-hash-header: $hash" \
    -H "XroadVnpt-version: 3.0.201608" "$@" -o "$out" "http://127.0.0.1:${GPORT[$who]}/$call"
  [ "$(jget "$out" 'j["status"]')" = OK ] ||
    fail "$call: $(jget "$out" 'j["ErrorCode"] + ": " + j["ErrorDesc"]')"
}
# A JSON API call: json AGENCY METHOD PATH OUT [curl arguments]; fails on an HTTP error.
json() {
  local who=$1 method=$2 path=$3 out=$4; shift 4
  show "curl -X $method http://127.0.0.1:${GPORT[$who]}$path -H 'Authorization: Bearer …' $*"
  local code
  code=$(curl -sS -X "$method" -H "Authorization: Bearer ${TOKEN[$who]}" "$@" -o "$out" \
    -w '%{http_code}' "http://127.0.0.1:${GPORT[$who]}$path")
  case "$code" in
    2??) ;;
    *) fail "$method $path: HTTP $code $(cat "$out")" ;;
  esac
}

step "3. VXP: G22's DMS sends an edXML document through its gateway (sendEdoc)"
say "VPCP's sample package, addressed to Nghệ An alone. The DMS changed one URL: the gateway"
say "checks the package, seals it once (the agency seal; a VXP DMS makes no personal signature"
say "through Axis, and the signed manifest says so), keeps it, and submits it until accepted."
grep -v -e '000.00.00.H53' -e '000.00.00.H29' "$REPO/edxml/tests/data/edoc_new.edxml" >vxp-doc.edxml
vxp g22 sendEdoc sent.json from=000.00.00.G22 servicetype=eDoc messagetype=edoc -- \
  -H 'Content-Type: application/octet-stream' --data-binary @vxp-doc.edxml
cat sent.json; echo
VXP_ID=$(jget sent.json 'j["DocId"]')
ok "accepted by the gateway: DocId $VXP_ID"

step "4. VXP: H41's DMS finds it (getReceivedEdocList), gets it (getEdoc), acknowledges it"
say "Gateway H41 fetched it from the axis, verified both signatures, decrypted it with H41's"
say "key, stored it and sent receipt 01 by itself."
has_edoc() {
  vxp h41 getReceivedEdocList list.json servicetype=eDoc messagetype=edoc >/dev/null &&
    [ "$(jget list.json 'len([i for i in j["data"] if i["from"] == "000.00.00.G22"])')" -ge 1 ]
}
wait_for "the document reaching H41's mailbox" has_edoc
vxp h41 getReceivedEdocList list.json servicetype=eDoc messagetype=edoc
python3 -m json.tool list.json
GOT_ID=$(jget list.json 'j["data"][0]["docId"]')
vxp h41 getEdoc got.json docId="$GOT_ID"
jget got.json 'j["data"]' | base64 -d >vxp-received.edxml
edxml_facts vxp-doc.edxml >facts-sent.txt
edxml_facts vxp-received.edxml >facts-received.txt
diff facts-sent.txt facts-received.txt || fail "H41 got a different document than G22 sent"
sed 's/^/   /' facts-received.txt
ok "H41's DMS has the document G22's DMS sent: the same header and attachments"
vxp h41 updateStatus ack.json docId="$GOT_ID" status=done
[ "$(jget list.json 'j["data"][0]["to"]')" = 000.00.00.H41 ] || fail "not addressed to H41"

step "5. VXP: H41's DMS answers with status 03, 'đã tiếp nhận' (sendEdoc messagetype=status)"
vxp h41 sendEdoc status-sent.json from=000.00.00.H41 servicetype=eDoc messagetype=status -- \
  -H 'Content-Type: application/octet-stream' \
  --data-binary @"$REPO/edxml/tests/data/status_acceptance_03.edxml"
ok "sent, signed with H41's seal"

step "6. VXP: G22's DMS gets the statuses of its document"
say "Gateway G22 reads the verified history of what it sent: H41's automatic 01 and its 03,"
say "each an edXML status package."
has_statuses() {
  vxp g22 getReceivedEdocList statuses.json servicetype=eDoc messagetype=status >/dev/null || return 1
  local codes="" id
  for id in $(jget statuses.json '" ".join(i["docId"] for i in j["data"])'); do
    vxp g22 getEdoc st.json docId="$id" >/dev/null || return 1
    codes+=" $(jget st.json 'j["data"]' | base64 -d | python3 -c '
import sys, xml.etree.ElementTree as ET
for e in ET.parse(sys.stdin).getroot().iter():
    if e.tag.endswith("}StatusCode"): print(e.text.strip())')"
  done
  echo "$codes" >status-codes.txt
  grep -qw 01 status-codes.txt && grep -qw 03 status-codes.txt
}
wait_for "statuses 01 and 03 reaching G22's DMS" has_statuses
ok "G22's DMS has statuses:$(cat status-codes.txt)"

step "7. JSON API: G22's DMS sends JSON metadata and a file"
say "For a new DMS in any language: the OpenAPI document is at /openapi.json. The gateway"
say "signs with the agency's personal key from its configuration, then the seal."
show curl http://127.0.0.1:${GPORT[g22]}/openapi.json
curl -sSf "http://127.0.0.1:${GPORT[g22]}/openapi.json" -o openapi.json
say "$(jget openapi.json 'str(len(j["paths"])) + " paths, OpenAPI " + j["openapi"]')"
printf '%s\n' '%PDF-1.4' '% Công văn 7817/VPCP-TTĐT' '%%EOF' >cong-van.pdf
cat >metadata.json <<'EOF'
{"to": ["000.00.00.H41"], "code": {"number": "7817", "notation": "VPCP-TTĐT"},
 "subject": "V/v thử nghiệm cổng kết nối", "date": "2015-09-30",
 "descriptions": ["Công văn"]}
EOF
json g22 POST /api/v1/documents sent-json.json \
  -F "metadata=@metadata.json;type=application/json" -F "file=@cong-van.pdf;type=application/pdf"
cat sent-json.json; echo
JSON_ID=$(jget sent-json.json 'j["id"]')
ok "queued: $JSON_ID"

step "8. JSON API: H41's DMS reads it with G22's verified signature report"
has_json_doc() {
  curl -sSf -H "Authorization: Bearer ${TOKEN[h41]}" -o received.json \
    "http://127.0.0.1:${GPORT[h41]}/api/v1/received?kind=edoc" &&
    [ "$(jget received.json 'len([i for i in j["items"] if "7817" in (i["document_id"] or "")])')" -ge 1 ]
}
wait_for "the JSON API's document reaching H41" has_json_doc
json h41 GET "/api/v1/received?kind=edoc" received.json
RID=$(jget received.json '[i for i in j["items"] if "7817" in (i["document_id"] or "")][0]["id"]')
json h41 GET "/api/v1/received/$RID" item.json
python3 -m json.tool item.json | head -40
json h41 GET "/api/v1/received/$RID/edxml" json-received.edxml
grep -q 'V/v thử nghiệm cổng kết nối' json-received.edxml || fail "the subject is not in the edXML"
GOT_PDF=$(edxml_facts json-received.edxml | sed -n 's/^attachment .* sha256=//p')
[ "$GOT_PDF" = "$(sha256sum cong-van.pdf | cut -d' ' -f1)" ] || fail "the attachment differs"
ok "H41 has the file G22 sent, byte for byte"
json h41 POST "/api/v1/received/$RID/ack" ack.json -H 'Content-Type: application/json' \
  --data '{"state":"done"}'

step "9. JSON API: H41 answers 03; G22 reads the verified history"
sed 's#7816/VPCP-TTĐT#7817/VPCP-TTĐT#g' "$REPO/edxml/tests/data/status_acceptance_03.edxml" >status-7817.edxml
json h41 POST /api/v1/statuses status-json.json -H 'Content-Type: application/xml' \
  --data-binary @status-7817.edxml
has_history() {
  curl -sSf -H "Authorization: Bearer ${TOKEN[g22]}" -o sent-state.json \
    "http://127.0.0.1:${GPORT[g22]}/api/v1/sent/$JSON_ID" &&
    jget sent-state.json '" ".join(sorted(str(h["status_code"]) for h in j["history"]))' >history-codes.txt &&
    grep -qw 01 history-codes.txt && grep -qw 03 history-codes.txt
}
wait_for "status 03 in the sent document's history at G22" has_history
json g22 GET "/api/v1/sent/$JSON_ID" sent-state.json
python3 -m json.tool sent-state.json | head -40
ok "G22 sees 01 and 03 from H41, each verified"

step "10. JSON API: the evidence, verified offline"
json g22 GET "/api/v1/sent/$JSON_ID/evidence" evidence.axb
show axis audit verify evidence.axb --root $DATA/pki/root.cert.pem --log-key $DATA/pki/axis-log-signer.cert.pem
"$BIN/axis" audit verify evidence.axb --root "$DATA/pki/root.cert.pem" \
  --log-key "$DATA/pki/axis-log-signer.cert.pem"

step "11. What the operator watches"
show curl http://127.0.0.1:${GPORT[g22]}/metrics
curl -sSf "http://127.0.0.1:${GPORT[g22]}/metrics" | grep -E '^axis_gateway_(outbox_queued|receipts_pending|mailbox_|log_consistent|documents_sent_total)' || true
cleanup
PIDS=()
trap - EXIT
printf '\n%sTwo DMSs exchanged documents and statuses through their gateways: done.%s\n' "$G" "$N"
