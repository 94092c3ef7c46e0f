#!/usr/bin/env python3
"""A second, independent implementation of the Axis formats, written from FORMATS.md alone
(cryptography for the primitives, asn1crypto for CMS and X.509, asn1tools with formats.asn1 for
the Axis structures).

    python3 axis_formats.py vectors REPO_ROOT
    python3 axis_formats.py seal JOB_DIR

checks every file of tests/vectors/: the signatures (CMS profile, FORMATS.md §5) against the
vectors' PKI at `verify_at`, the key commitment and binding digest, reproduces the key envelope
byte for byte from parameters.json (§6.3), opens the sealed document as each recipient (§9)
and compares every part with the committed plaintext, verifies the receipts and their chains
(§10), the log entries, tree head and proofs (§11) and the evidence bundle with its
completeness statement (§12), also refusing it with a recipient's last statement cut, and the
witnesses' cosignatures of its tree head (§11, §12 step 11): each reproduced byte for byte,
verified, and counted K of N against given witness keys.

`seal` seals a new document (§8) from JOB_DIR/seal.json and the PEM keys and certificates
beside it, for any mix of RSA and P-256 recipients, and writes header.der, submission.cms,
envelope.der, ciphertext.bin and manifest.der there; the interop test submits them to a real
axis node and opens them with the Rust SDK.

Exit status 0 when everything holds; every failure is printed. Run by the interop test
`python_formats`, which fails without python3 or its modules.
"""

import base64
import datetime
import hashlib
import json
import os
import struct
import sys

import asn1tools
from asn1crypto import cms as acms
from asn1crypto import core as acore
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from cryptography.x509.oid import ObjectIdentifier

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)
    return cond


def H(data):
    return hashlib.sha256(data).digest()


# ----------------------------------------------------------------------------------------------
# DER (FORMATS.md §1): just enough to walk and to write the structures this file builds.
# ----------------------------------------------------------------------------------------------


def der_len(n):
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def seq(*items):
    return tlv(0x30, b"".join(items))


def der_set(*items):
    return tlv(0x31, b"".join(sorted(items)))


def octets(b):
    return tlv(0x04, b)


def der_int(n):
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return tlv(0x02, b)


def oid(dotted):
    return acore.ObjectIdentifier(dotted).dump()


def read_tlv(buf, pos=0):
    """(tag, header length, content length) of the element at pos."""
    tag = buf[pos]
    first = buf[pos + 1]
    if first < 0x80:
        return tag, 2, first
    n = first & 0x7F
    return tag, 2 + n, int.from_bytes(buf[pos + 2 : pos + 2 + n], "big")


def children(buf):
    """The encodings of the elements of a constructed element's content."""
    out, pos = [], 0
    while pos < len(buf):
        _, hl, cl = read_tlv(buf, pos)
        out.append(buf[pos : pos + hl + cl])
        pos += hl + cl
    return out


def content_of(element):
    _, hl, cl = read_tlv(element)
    return element[hl : hl + cl]


# ----------------------------------------------------------------------------------------------
# Object identifiers (FORMATS.md §2, formats.asn1 §1)
# ----------------------------------------------------------------------------------------------

ID_DATA = "1.2.840.113549.1.7.1"
ID_AES256_CBC = "2.16.840.1.101.3.4.1.42"
ID_AES256_WRAP = "2.16.840.1.101.3.4.1.45"
ID_RSAES_OAEP = "1.2.840.113549.1.1.7"
ID_MGF1 = "1.2.840.113549.1.1.8"
ID_SHA256 = "2.16.840.1.101.3.4.2.1"
ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ID_ECDH_SHA256 = "1.3.132.1.11.1"  # dhSinglePass-stdDH-sha256kdf-scheme
ID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
ID_ORG_IDENTIFIER = ObjectIdentifier("2.5.4.97")
PROFILE_SEAL, PROFILE_PERSONAL, PROFILE_ENC, PROFILE_LOG = 3, 4, 5, 8
COMMITMENT_PHRASE = b"axis-signer v1 content-key commitment"


# ----------------------------------------------------------------------------------------------
# Certificates and trust (FORMATS.md §3)
# ----------------------------------------------------------------------------------------------


def load_cert(path):
    with open(path, "rb") as f:
        data = f.read()
    return x509.load_pem_x509_certificate(data) if data.startswith(b"-----") else x509.load_der_x509_certificate(data)


def load_crl(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_crl(f.read())


def policies_of(cert):
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return [p.policy_identifier.dotted_string for p in policies]


def profile_of(cert, arc):
    """The profile number n of a certificate with exactly one policy <arc>.1.<n> (§3)."""
    ids = policies_of(cert)
    prefix = arc + ".1."
    if len(ids) != 1 or not ids[0].startswith(prefix):
        return None
    return int(ids[0][len(prefix) :])


def agency_of(cert):
    attrs = cert.subject.get_attributes_for_oid(ID_ORG_IDENTIFIER)
    return attrs[0].value if len(attrs) == 1 else None


def signed_by(cert, issuer):
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:
        return False


class Trust:
    """A root, issuing CAs and CRLs; verification at a time with the CRL in force then."""

    def __init__(self, root, cas, crls):
        self.root, self.cas, self.crls = root, cas, crls
        # a PKI declares its policy arc by its root's own policy <arc>.1.1 (§3)
        (root_policy,) = policies_of(root)
        if not root_policy.endswith(".1.1"):
            raise ValueError("the root's policy is not <arc>.1.1")
        self.arc = root_policy[: -len(".1.1")]

    def crl_in_force(self, issuer, at):
        """The newest CRL of this issuer in force at `at` (thisUpdate <= at < nextUpdate)."""
        best = None
        for crl in self.crls:
            if crl.issuer != issuer.subject or crl.next_update_utc is None:
                continue
            if crl.last_update_utc <= at < crl.next_update_utc and crl.is_signature_valid(issuer.public_key()):
                if best is None or crl.last_update_utc > best.last_update_utc:
                    best = crl
        return best

    def valid(self, cert, issuer, at):
        if not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
            return False
        if not signed_by(cert, issuer):
            return False
        crl = self.crl_in_force(issuer, at)
        return crl is not None and crl.get_revoked_certificate_by_serial_number(cert.serial_number) is None

    def verify_chain(self, cert, profile, at):
        for ca in self.cas:
            if cert.issuer == ca.subject and self.valid(cert, ca, at) and self.valid(ca, self.root, at):
                return profile_of(cert, self.arc) == profile and profile_of(ca, self.arc) == 2
        return False


# ----------------------------------------------------------------------------------------------
# Signatures: the CMS profile (FORMATS.md §5.4)
# ----------------------------------------------------------------------------------------------


def parse_time(t):
    return t if isinstance(t, datetime.datetime) else datetime.datetime.strptime(t, "%Y%m%d%H%M%SZ")


def verify_signature(sig_der, content, trust, profile, agency, at):
    """Verifies an AxisSignature over content; returns (signing time, signer cert) or None."""
    info = acms.ContentInfo.load(sig_der)
    if info.dump(force=True) != sig_der or info["content_type"].dotted != "1.2.840.113549.1.7.2":
        return None
    sd = info["content"]
    if sd["version"].native != "v1" or len(sd["signer_infos"]) != 1:
        return None
    if sd["encap_content_info"]["content_type"].dotted != ID_DATA or sd["encap_content_info"]["content"].native is not None:
        return None
    si = sd["signer_infos"][0]
    attrs = {}
    for a in si["signed_attrs"]:
        kind = a["type"].dotted
        if kind in attrs or len(a["values"]) != 1:
            return None
        attrs[kind] = a["values"][0]
    required = {"1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5", ID_SIGNING_CERT_V2}
    extra = {"1.2.840.113549.1.9.52", "1.2.840.113549.1.9.15"}
    if not required <= set(attrs) or set(attrs) - required - extra:
        return None
    if attrs["1.2.840.113549.1.9.3"].dotted != ID_DATA or attrs["1.2.840.113549.1.9.4"].native != H(content):
        return None
    sid = si["sid"].chosen
    signer = None
    for c in sd["certificates"]:
        c = c.chosen
        if c.issuer.dump() == sid["issuer"].dump() and c["tbs_certificate"]["serial_number"].dump() == sid["serial_number"].dump():
            signer = x509.load_der_x509_certificate(c.dump())
    if signer is None:
        return None
    ess = acore.Sequence.load(attrs[ID_SIGNING_CERT_V2].dump())
    first_id = children(content_of(children(content_of(ess.dump()))[0]))[0]
    cert_hash = [e for e in children(content_of(first_id)) if e[0] == 0x04][0]
    if content_of(cert_hash) != H(signer.public_bytes(serialization.Encoding.DER)):
        return None
    # the signature is over the DER SET OF the signed attributes (tag 0x31, not [0])
    signed = b"\x31" + si["signed_attrs"].dump()[1:]
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(si["signature"].native, signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(si["signature"].native, signed, ec.ECDSA(hashes.SHA256()))
    except Exception:
        return None
    if not trust.verify_chain(signer, profile, at):
        return None
    signing_time = attrs["1.2.840.113549.1.9.5"].native.replace(tzinfo=datetime.timezone.utc)
    if signing_time > at + datetime.timedelta(minutes=5):
        return None
    if not (signer.not_valid_before_utc <= signing_time <= signer.not_valid_after_utc):
        return None
    if agency is not None and agency_of(signer) != agency:
        return None
    return signing_time, signer


# ----------------------------------------------------------------------------------------------
# Encryption (FORMATS.md §6)
# ----------------------------------------------------------------------------------------------


def key_commitment(k):
    return H(COMMITMENT_PHRASE + b"\x00" + k)


def shared_info():
    return seq(seq(oid(ID_AES256_WRAP)), tlv(0xA2, octets(b"\x00\x00\x01\x00")))


def kek_from(z):
    return H(z + b"\x00\x00\x00\x01" + shared_info())


def issuer_and_serial(cert):
    return seq(cert.issuer.public_bytes(), der_int(cert.serial_number))


def ec_point(public_key):
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def recipient_info(cert, cek, ephemeral=None):
    """One RecipientInfo for an agency-encryption certificate (§6.3)."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        oaep_params = seq(tlv(0xA0, seq(oid(ID_SHA256))), tlv(0xA1, seq(oid(ID_MGF1), seq(oid(ID_SHA256)))))
        wrapped = key.encrypt(cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
        return seq(der_int(0), issuer_and_serial(cert), seq(oid(ID_RSAES_OAEP), oaep_params), octets(wrapped))
    eph = ephemeral or ec.generate_private_key(ec.SECP256R1())
    z = eph.exchange(ec.ECDH(), key)
    wrapped = aes_key_wrap(kek_from(z), cek)
    # [1] IMPLICIT OriginatorPublicKey: the [1] replaces the SEQUENCE tag (FORMATS.md §6.3)
    originator = tlv(0xA0, tlv(0xA1, seq(oid(ID_EC_PUBLIC_KEY)) + tlv(0x03, b"\x00" + ec_point(eph.public_key()))))
    kea = seq(oid(ID_ECDH_SHA256), seq(oid(ID_AES256_WRAP)))
    rek = seq(seq(issuer_and_serial(cert), octets(wrapped)))
    return tlv(0xA1, der_int(3) + originator + kea + rek)


def key_envelope_entries(k, cek, iv, recipients):
    """The key envelope's entries (§6.3): one ContentInfo with one RecipientInfo per recipient,
    in order; recipients is a list of (cert, ephemeral private key or None). Every entry has the
    same CEK, IV and encrypted content."""
    padder_len = 16 - len(k) % 16
    enc = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    encrypted = enc.update(k + bytes([padder_len]) * padder_len) + enc.finalize()
    eci = seq(oid(ID_DATA), seq(oid(ID_AES256_CBC), octets(iv)), tlv(0x80, encrypted))
    entries = []
    for c, e in recipients:
        ktri = not isinstance(c.public_key(), ec.EllipticCurvePublicKey)
        enveloped = seq(der_int(0 if ktri else 2), der_set(recipient_info(c, cek, e)), eci)
        entries.append(seq(oid("1.2.840.113549.1.7.3"), tlv(0xA0, enveloped)))
    return entries


def key_envelope(k, cek, iv, recipients):
    """KeyEnvelope DER (the list of entries) and its entries."""
    entries = key_envelope_entries(k, cek, iv, recipients)
    return seq(*entries), entries


def envelope_root(entries):
    """keyEnvelopeRoot: the RFC 9162 root over the entries' DER (§6.3)."""
    return mth([leaf_hash(e) for e in entries])


def audit_path(leaves, m):
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) over leaf hashes."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return audit_path(leaves[:k], m) + [mth(leaves[k:])]
    return audit_path(leaves[k:], m - k) + [mth(leaves[:k])]


def entry_in_root(entry, index, count, path, root):
    """§9 step 4: the entry is entry `index` of the `count` entries under `root`."""
    if len(path) > 9 or any(len(h) != 32 for h in path):
        return False
    return root_from_path(index, count, leaf_hash(entry), path) == root


def unwrap_content_key(entry_der, cert, private_key):
    """K from this recipient's key-envelope entry (§9 step 5), or None."""
    info = acms.ContentInfo.load(entry_der)
    env = info["content"]
    if len(env["recipient_infos"]) != 1:
        return None
    cek = None
    mine = issuer_and_serial(cert)
    for ri in env["recipient_infos"]:
        kind, body = ri.name, ri.chosen
        if kind == "ktri" and body["rid"].chosen.dump() == mine and isinstance(private_key, rsa.RSAPrivateKey):
            alg = body["key_encryption_algorithm"]
            if alg["algorithm"].dotted != ID_RSAES_OAEP:
                return None
            try:
                cek = private_key.decrypt(body["encrypted_key"].native, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
            except Exception:
                return None
        elif kind == "kari" and isinstance(private_key, ec.EllipticCurvePrivateKey):
            for rek in body["recipient_encrypted_keys"]:
                if rek["rid"].chosen.dump() != mine:
                    continue
                if body["key_encryption_algorithm"]["algorithm"].dotted != ID_ECDH_SHA256:
                    return None
                point = body["originator"].chosen["public_key"].native
                eph = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
                z = private_key.exchange(ec.ECDH(), eph)
                try:
                    cek = aes_key_unwrap(kek_from(z), rek["encrypted_key"].native)
                except Exception:
                    return None
    if cek is None:
        return None
    eci = env["encrypted_content_info"]
    if eci["content_encryption_algorithm"]["algorithm"].dotted != ID_AES256_CBC:
        return None
    iv = eci["content_encryption_algorithm"]["parameters"].native
    dec = Cipher(algorithms.AES(cek), modes.CBC(iv)).decryptor()
    padded = dec.update(eci["encrypted_content"].native) + dec.finalize()
    n = padded[-1]
    if n < 1 or n > 16 or padded[-n:] != bytes([n]) * n:
        return None
    k = padded[:-n]
    return k if len(k) == 32 else None


# ----------------------------------------------------------------------------------------------
# The stream (§6.4) and the binding digest (§7)
# ----------------------------------------------------------------------------------------------


def binding_digest(header_der):
    inner = children(content_of(header_der))
    return H(b"".join(inner[:3]))


def nonce(part, index, last):
    return b"\x00\x00\x00" + struct.pack(">IIB", part, index, 1 if last else 0)


def encrypt_parts(k, bdigest, chunk_size, parts):
    gcm, out = AESGCM(k), []
    for p, data in enumerate(parts):
        chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""]
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            sealed = gcm.encrypt(nonce(p, i, last), chunk, bdigest)
            out.append(bdigest[:8] + struct.pack(">IIBI", p, i, 1 if last else 0, len(sealed)) + sealed)
    return b"".join(out)


def decrypt_frames(k, bdigest, chunk_size, ciphertext):
    """The plaintext parts, in order; raises ValueError on any frame out of place."""
    gcm, parts, pos = AESGCM(k), [], 0
    part, index, current = 0, 0, b""
    while pos < len(ciphertext):
        tag, p, i, flags, length = struct.unpack(">8sIIBI", ciphertext[pos : pos + 21])
        if tag != bdigest[:8] or p != part or i != index or flags not in (0, 1):
            raise ValueError("frame %d/%d out of place" % (p, i))
        if not 16 <= length <= chunk_size + 16 or (flags == 0 and length != chunk_size + 16):
            raise ValueError("frame length")
        body = ciphertext[pos + 21 : pos + 21 + length]
        current += gcm.decrypt(nonce(p, i, flags == 1), body, bdigest)
        pos += 21 + length
        if flags == 1:
            parts.append(current)
            part, index, current = part + 1, 0, b""
        else:
            index += 1
    if current:
        raise ValueError("truncated part")
    return parts


# ----------------------------------------------------------------------------------------------
# The log (§11)
# ----------------------------------------------------------------------------------------------


def leaf_hash(entry):
    return H(b"\x00" + entry)


def node(left, right):
    return H(b"\x01" + left + right)


def mth(leaves):
    if not leaves:
        return H(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def root_from_path(index, size, leaf, path):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# ----------------------------------------------------------------------------------------------
# The vectors
# ----------------------------------------------------------------------------------------------


def check_vectors(repo):
    d = os.path.join(repo, "tests", "vectors")
    spec = asn1tools.compile_files(os.path.join(repo, "formats.asn1"), "der")

    def raw(name):
        with open(os.path.join(d, name), "rb") as f:
            return f.read()

    def decode(kind, data):
        value = spec.decode(kind, data)
        check(spec.encode(kind, value) == data, "%s: one byte form" % kind)
        return value

    params = json.loads(raw("parameters.json"))
    at = datetime.datetime.strptime(params["verify_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    certs = {n: load_cert(os.path.join(d, n + ".crt")) for n in ("root", "ca", "g22-seal", "g22-person", "h41-seal", "h41-enc", "h53-seal", "h53-enc", "log")}
    crls = [load_crl(os.path.join(d, n + ".crl")) for n in ("root-crl", "ca-crl-1", "ca-crl-2")]
    trust = Trust(certs["root"], [certs["ca"]], crls)

    def key(name):
        return serialization.load_pem_private_key(raw("keys/%s.key" % name), None)

    # §4, §5: the manifest and its two signatures over the same bytes
    manifest_der = raw("manifest.der")
    manifest = decode("Manifest", manifest_der)
    sender = manifest["from"]["organId"]
    check(H(manifest_der).hex() == params["manifest_digest"], "manifest digest")
    # §4 signatureForm: personAndSeal is the DEFAULT, absent from the DER; sealOnly is 80 01 01
    check(manifest.get("signatureForm", "personAndSeal") == "personAndSeal", "the vector is signed by a person")
    seal_only = spec.encode("Manifest", dict(manifest, signatureForm="sealOnly"))
    check(seal_only.endswith(b"\x80\x01\x01") and decode("Manifest", seal_only)["signatureForm"] == "sealOnly", "sealOnly is stated under the signatures")
    personal = verify_signature(raw("personal.cms"), manifest_der, trust, PROFILE_PERSONAL, sender, at)
    seal = verify_signature(raw("seal.cms"), manifest_der, trust, PROFILE_SEAL, sender, at)
    check(personal is not None, "personal signature verifies")
    check(seal is not None, "seal signature verifies")
    if personal and seal:
        check(seal[0] >= personal[0], "seal not before the personal signature")
    check(verify_signature(raw("seal.cms"), manifest_der + b"x", trust, PROFILE_SEAL, sender, at) is None, "a seal over other bytes is refused")
    check(verify_signature(raw("seal.cms"), manifest_der, trust, PROFILE_PERSONAL, sender, at) is None, "a seal is not a personal signature")

    # §7: routing header and submission signature
    header_der = raw("header.der")
    header = decode("RoutingHeader", header_der)
    binding = header["binding"]
    check(binding["sender"] == sender, "header sender")
    check(binding["recipients"] == [o["organId"] for o in manifest["to"]], "header recipients")
    check(verify_signature(raw("submission.cms"), header_der, trust, PROFILE_SEAL, sender, at) is not None, "submission signature verifies")
    bdigest = binding_digest(header_der)
    check(bdigest.hex() == params["binding_digest"], "binding digest")
    k = bytes.fromhex(params["content_key"])
    check(key_commitment(k) == binding["keyCommitment"], "key commitment")
    check(key_commitment(k).hex() == params["key_commitment"], "key commitment (parameters)")

    # §6.3: the envelope, byte for byte from the parameters; its entries under the header's root
    check(header["version"] == 2, "routing header version 2")
    envelope_der = raw("envelope.der")
    ephemerals = [ec.derive_private_key(int(e, 16), ec.SECP256R1()) for e in params["ephemeral"]]
    rebuilt, entries = key_envelope(k, bytes.fromhex(params["cek"]), bytes.fromhex(params["iv"]), [(certs["h41-enc"], ephemerals[0]), (certs["h53-enc"], ephemerals[1])])
    check(rebuilt == envelope_der, "the key envelope is reproduced byte for byte from parameters.json")
    check(decode("KeyEnvelope", envelope_der) == [decode("KeyEnvelopeEntry", e) for e in entries], "the key envelope is the list of its entries")
    check(len(entries) == len(binding["recipients"]), "one entry per recipient")
    check(envelope_root(entries) == binding["keyEnvelopeRoot"], "key-envelope root")
    check(binding["keyEnvelopeRoot"].hex() == params["key_envelope_root"], "key-envelope root (parameters)")
    entry_leaves = [leaf_hash(e) for e in entries]
    paths = []
    for i, e in enumerate(entries):
        check(raw("envelope-entry-%d.der" % i) == e, "entry %d is the file" % i)
        path = audit_path(entry_leaves, i)
        check([h.hex() for h in path] == params["key_envelope_paths"][i], "entry %d audit path (parameters)" % i)
        check(entry_in_root(e, i, len(entries), path, binding["keyEnvelopeRoot"]), "entry %d is under the root" % i)
        paths.append(path)
    check(not entry_in_root(entries[1], 0, len(entries), paths[0], binding["keyEnvelopeRoot"]), "another recipient's entry is not under the root at my place")
    check(not entry_in_root(entries[0], 1, len(entries), paths[0], binding["keyEnvelopeRoot"]), "my entry is not under the root at another place")

    # §6.4: the ciphertext, byte for byte, and opening it as each recipient (§9)
    ciphertext = raw("ciphertext.bin")
    check(len(ciphertext) == header["ciphertextLength"] == params["ciphertext_length"], "ciphertext length")
    check(H(ciphertext) == header["ciphertextDigest"], "ciphertext digest")
    attachments = [raw("attachment-%d.bin" % i) for i in range(len(manifest["attachments"]))]
    plain = [manifest_der, raw("personal.cms"), raw("seal.cms")] + attachments
    check(encrypt_parts(k, bdigest, binding["chunkSize"], plain) == ciphertext, "the ciphertext is reproduced byte for byte")
    for i, who in enumerate(("h41", "h53")):
        opened_k = unwrap_content_key(entries[i], certs[who + "-enc"], key(who + "-enc"))
        check(opened_k == k, "%s unwraps the content key" % who)
        if opened_k is None:
            continue
        parts = decrypt_frames(opened_k, bdigest, binding["chunkSize"], ciphertext)
        check(parts == plain, "%s opens every part" % who)
        for a, data in zip(manifest["attachments"], parts[3:]):
            check(a["size"] == len(data) and a["sha256"] == H(data), "%s: attachment %s matches the manifest" % (who, a["name"]))
    check(unwrap_content_key(entries[0], certs["h41-enc"], key("h53-enc")) is None, "a wrong key opens nothing")
    check(unwrap_content_key(entries[1], certs["h41-enc"], key("h41-enc")) is None, "another recipient's entry opens nothing")
    try:
        tampered = bytearray(ciphertext)
        tampered[30] ^= 1
        decrypt_frames(k, bdigest, binding["chunkSize"], bytes(tampered))
        check(False, "a changed frame is refused")
    except Exception:
        pass

    # §10: receipts and their chains
    receipts = []
    n = 0
    while os.path.exists(os.path.join(d, "receipt-%d.der" % n)):
        rd, rs = raw("receipt-%d.der" % n), raw("receipt-%d.cms" % n)
        r = decode("Receipt", rd)
        signed = verify_signature(rs, rd, trust, PROFILE_SEAL, r["from"], at)
        check(signed is not None, "receipt %d verifies" % n)
        if signed:
            check(signed[0] == parse_time(r["time"]).replace(tzinfo=datetime.timezone.utc), "receipt %d: signingTime = time" % n)
        check(r["messageId"] == binding["messageId"], "receipt %d: message id" % n)
        check(r["manifestDigest"] == H(manifest_der), "receipt %d: manifest digest" % n)
        check(r["ciphertextDigest"] == header["ciphertextDigest"], "receipt %d: ciphertext digest" % n)
        check((r["version"] == 2) == ("edxml" in r), "receipt %d: version 2 exactly with edxml" % n)
        receipts.append((rd, rs, r))
        n += 1
    chains = {}
    for rd, _, r in receipts:
        chain = chains.setdefault(r["from"] if r["status"] != "13" else r["to"], [])
        check(r["previous"] == (H(chain[-1][0]) if chain else b""), "receipt of %s: previous" % r["from"])
        if chain:
            check(parse_time(r["time"]) >= parse_time(chain[-1][1]["time"]), "receipt of %s: time order" % r["from"])
        chain.append((rd, r))
    check(n == 3, "three receipts")

    # §11: entries, tree head, proofs
    entries = []
    n = 0
    while os.path.exists(os.path.join(d, "entry-%d.der" % n)):
        entries.append(raw("entry-%d.der" % n))
        decode("LogEntry", entries[-1])
        n += 1
    leaves = [leaf_hash(e) for e in entries]
    check([l.hex() for l in leaves] == params["leaf_hashes"], "leaf hashes")
    check(mth(leaves).hex() == params["root_hash"], "root hash")
    acceptance = decode("LogEntry", entries[0])["body"]
    check(acceptance[0] == "acceptance", "entry 0 is the acceptance")
    acc = acceptance[1]
    check(acc["headerDigest"] == H(header_der) and acc["submissionSignatureDigest"] == H(raw("submission.cms")), "acceptance records the header and its signature")
    check(acc["ciphertextLength"] == len(ciphertext) and acc["ciphertextDigest"] == H(ciphertext), "acceptance records the ciphertext")
    for i, (rd, rs, r) in enumerate(receipts):
        body = decode("LogEntry", entries[[1, 2, 4][i]])["body"]
        check(body[0] == "statement" and body[1]["receiptDigest"] == H(rd) and body[1]["signatureDigest"] == H(rs), "entry of receipt %d" % i)
    head_der, head_sig = raw("tree-head.der"), raw("tree-head.cms")
    head = decode("TreeHead", head_der)
    check(head["treeSize"] == len(entries) and head["rootHash"] == mth(leaves), "tree head")
    signed = verify_signature(head_sig, head_der, trust, PROFILE_LOG, None, at)
    check(signed is not None, "tree head signature verifies")
    log_spki = certs["log"].public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if signed:
        check(signed[1].public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == log_spki, "tree head by the pinned key")
        check(signed[0] == parse_time(head["timestamp"]).replace(tzinfo=datetime.timezone.utc), "tree head signingTime = timestamp")
    sth = decode("SignedTreeHeadFile", raw("tree-head.sth"))
    check(sth["treeHead"] == head_der and sth["signature"] == head_sig, "tree-head.sth")
    for i in range(len(entries)):
        proof = decode("LogProof", raw("proof-%d.der" % i))
        check(proof["treeHead"] == head_der and proof["signature"] == head_sig, "proof %d head" % i)
        check(root_from_path(proof["leafIndex"], head["treeSize"], leaves[i], proof["path"]) == head["rootHash"], "proof %d path" % i)
        logged_at = parse_time(decode("LogEntry", entries[i])["loggedAt"])
        check(logged_at <= parse_time(head["timestamp"]), "entry %d logged before the head" % i)

    # §12: the bundle (version 3: with the witnesses' cosignatures, checked after §12.1)
    bundle_der = raw("bundle.der")
    bundle = decode("EvidenceBundle", bundle_der)
    check(bundle["routingHeader"] == header_der and bundle["submissionSignature"] == raw("submission.cms"), "bundle: header and submission")
    btrust = Trust(certs["root"], [load_cert_der(c) for c in bundle["intermediates"]], [x509.load_der_x509_crl(c) for c in bundle["crls"]])
    bhead = decode("TreeHead", bundle["treeHead"])
    bhead_at = parse_time(bhead["timestamp"]).replace(tzinfo=datetime.timezone.utc)
    check(verify_signature(bundle["treeHeadSignature"], bundle["treeHead"], btrust, PROFILE_LOG, None, bhead_at) is not None, "bundle: tree head signature at its own time")
    sub = verify_signature(bundle["submissionSignature"], bundle["routingHeader"], btrust, PROFILE_SEAL, binding["sender"], at)
    check(sub is not None, "bundle: submission signature")
    if sub:
        check(verify_signature(bundle["submissionSignature"], bundle["routingHeader"], btrust, PROFILE_SEAL, binding["sender"], sub[0]) is not None, "bundle: submission at its own time")

    def logged_ok(logged, what):
        ok = root_from_path(logged["leafIndex"], bhead["treeSize"], leaf_hash(logged["entry"]), logged["path"]) == bhead["rootHash"]
        check(ok, "bundle: %s included under the head" % what)
        return decode("LogEntry", logged["entry"])

    entry = logged_ok(bundle["acceptance"], "acceptance")
    check(entry["body"][0] == "acceptance" and entry["body"][1]["headerDigest"] == H(bundle["routingHeader"]), "bundle: acceptance records the header")
    last_index = bundle["acceptance"]["leafIndex"]
    doc_ids = set()
    for i, st in enumerate(bundle["statements"]):
        check(st["recipient"] in binding["recipients"], "bundle statement %d: recipient" % i)
        check(st["logged"]["leafIndex"] > last_index, "bundle statement %d: log order" % i)
        last_index = st["logged"]["leafIndex"]
        r = decode("Receipt", st["statement"])
        r_at = parse_time(r["time"]).replace(tzinfo=datetime.timezone.utc)
        check(verify_signature(st["signature"], st["statement"], btrust, PROFILE_SEAL, r["from"], r_at) is not None, "bundle statement %d: verifies at its own time" % i)
        e = logged_ok(st["logged"], "statement %d" % i)
        check(e["body"][0] == "statement" and e["body"][1]["receiptDigest"] == H(st["statement"]) and e["body"][1]["signatureDigest"] == H(st["signature"]), "bundle statement %d: entry records it" % i)
        doc_ids.add((r["documentId"], r["manifestDigest"]))
    check(len(doc_ids) <= 1, "bundle: one DocumentId and manifest digest")
    check(len(bundle["statements"]) == 3, "bundle: three statements")

    # §12.1: the completeness statement (version 2 and later)
    check(bundle["version"] >= 2 and "completeness" in bundle, "bundle: a completeness statement")
    comp_der, comp_sig = bundle.get("completeness", b""), bundle.get("completenessSignature", b"")
    check(comp_der == raw("completeness.der") and comp_sig == raw("completeness.cms"), "bundle: completeness.der and .cms")
    comp = decode("Completeness", comp_der)
    comp_at = parse_time(comp["issuedAt"]).replace(tzinfo=datetime.timezone.utc)
    signed = verify_signature(comp_sig, comp_der, btrust, PROFILE_LOG, None, comp_at)
    check(signed is not None, "completeness: signature verifies at its own time")
    if signed:
        check(signed[1].public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == log_spki, "completeness: by the pinned log key")
        check(signed[0] == comp_at, "completeness: signingTime = issuedAt")
    check(comp_at >= bhead_at, "completeness: issued no earlier than its tree head")
    problems = completeness_problems(comp, bhead, bundle, binding)
    check(not problems, "completeness: the bundle matches it (%s)" % "; ".join(problems))
    # A history cut short: without its recipient's last statement, the bundle no longer matches.
    for cut in range(len(bundle["statements"])):
        recipient = bundle["statements"][cut]["recipient"]
        if any(st["recipient"] == recipient for st in bundle["statements"][cut + 1:]):
            continue  # not that recipient's last statement
        shorter = dict(bundle, statements=bundle["statements"][:cut] + bundle["statements"][cut + 1:])
        problems = completeness_problems(comp, bhead, shorter, binding)
        check(any(recipient in p for p in problems), "completeness: a bundle without %s's last statement is refused naming it" % recipient)

    # §11, §12 step 11: the witnesses' cosignatures (version 3). bundle-v2.der is the same
    # bundle as an axis without witnesses writes it.
    v2_der = raw("bundle-v2.der")
    v2 = decode("EvidenceBundle", v2_der)
    check(v2["version"] == 2 and "cosignatures" not in v2, "bundle-v2.der: version 2, no cosignatures")
    check(bundle["version"] == 3 and dict(v2, version=3, cosignatures=bundle.get("cosignatures")) == bundle, "bundle.der: bundle-v2.der with version 3 and the cosignatures")
    top = children(content_of(bundle_der))
    check(children(content_of(v2_der)) == [top[0], der_int(2)] + top[2:-1], "bundle.der: the elements of bundle-v2.der, then the cosignatures")
    cosignatures = children(content_of(top[-1]))
    check(sorted(cosignatures) == sorted(raw("cosignature-%d.der" % (i + 1)) for i in range(2)), "bundle: the two cosignature vectors")
    check(all(a < b for a, b in zip(cosignatures, cosignatures[1:])), "bundle: cosignatures in ascending order of their octets")
    check(len({cosigned_parts(c, decode)[1]["witness"] for c in cosignatures}) == len(cosignatures), "bundle: one cosignature per witness")
    witness_spkis = [load_public_key_spki(raw("witness-%d.pub.pem" % (i + 1))) for i in range(2)]
    check([H(w).hex() for w in witness_spkis] == params["witness_key_ids"], "witness key ids (parameters)")
    check(H(log_spki).hex() == params["log_key_id"], "log key id (parameters)")
    for i in range(2):
        c = raw("cosignature-%d.der" % (i + 1))
        signed, cth, sig = cosigned_parts(c, decode)
        # The signed octets, rebuilt from FORMATS.md §11 alone.
        at = bhead_at + datetime.timedelta(minutes=1 + i)
        rebuilt = seq(oid(ID_AXIS + ".2.11"), der_int(1), octets(H(log_spki)), octets(H(witness_spkis[i])), der_int(bhead["treeSize"]), octets(bhead["rootHash"]), tlv(0x18, at.strftime("%Y%m%d%H%M%SZ").encode()))
        check(signed == rebuilt, "cosignature %d: CosignedTreeHead rebuilt byte for byte" % (i + 1))
        # The witness signs deterministically in the vectors (RFC 6979), the low s as always.
        mine = low_s(key("witness-%d" % (i + 1)).sign(signed, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
        check(mine == sig and seq(signed, octets(mine)) == c, "cosignature %d: reproduced byte for byte (RFC 6979, low s)" % (i + 1))
    # K of N, as `axis audit verify --witness … --min-witnesses K` counts.
    other = load_public_key_spki(certs["h41-enc"].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    by, problem = witnessed(bhead, log_spki, cosignatures, witness_spkis, 2, decode)
    check(problem is None and len(by) == 2, "witnesses: 2 of 2 given, 2 required (%s)" % problem)
    by, problem = witnessed(bhead, log_spki, cosignatures, witness_spkis + [other], 3, decode)
    check(problem == "the tree head is cosigned by 2 of the 3 witnesses given, 3 required", "witnesses: 3 required of 3 given, 2 cosigned: refused naming the shortfall (%s)" % problem)
    by, problem = witnessed(bhead, log_spki, cosignatures, [witness_spkis[0], witness_spkis[0]], 2, decode)
    check(problem is not None and "1 of the 2" in problem, "witnesses: one witness named twice counts once (%s)" % problem)
    by, problem = witnessed(bhead, log_spki, cosignatures[:1], witness_spkis, 1, decode)
    check(problem is None and len(by) == 1, "witnesses: 1 of 2 given, 1 required (%s)" % problem)
    tampered = [c[:-1] + bytes([c[-1] ^ 1]) for c in cosignatures[:1]] + cosignatures[1:]
    _, problem = witnessed(bhead, log_spki, tampered, witness_spkis, 1, decode)
    check(problem is not None and "cosignature 0" in problem, "witnesses: a changed signature is refused, not skipped (%s)" % problem)
    other_head = dict(bhead, rootHash=bytes(32))
    _, problem = witnessed(other_head, log_spki, cosignatures, witness_spkis, 0, decode)
    check(problem is not None and "not of this tree head" in problem, "witnesses: cosignatures of another head are refused (%s)" % problem)
    print("vectors checked: %d receipts, %d entries, bundle of %d statements complete for %d recipients, cosigned by %d witnesses" % (len(receipts), len(entries), len(bundle["statements"]), len(comp["chains"]), len(cosignatures)))


# ----------------------------------------------------------------------------------------------
# Witnesses (FORMATS.md §11)
# ----------------------------------------------------------------------------------------------

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def low_s(sig):
    """An ECDSA-Sig-Value in normal form: of s and n - s, the low one."""
    r, s_ = decode_dss_signature(sig)
    return encode_dss_signature(r, min(s_, P256_N - s_))


def load_public_key_spki(pem):
    """The DER SubjectPublicKeyInfo of a PEM public key, as the file holds it."""
    lines = [l for l in pem.decode().splitlines() if l and not l.startswith("-----")]
    return base64.b64decode("".join(lines))


def cosigned_parts(cosignature, decode):
    """A Cosignature's exact signed octets (its first element, as it stands), the decoded
    CosignedTreeHead, and the signature octets. One byte form: decode re-encodes and compares."""
    decode("Cosignature", cosignature)
    signed, sig = children(content_of(cosignature))
    return signed, decode("CosignedTreeHead", signed), content_of(sig)


def cosignature_verifies(cosignature, witness_spki, decode):
    """FORMATS.md §11: names this witness's key id, ECDSA P-256 SHA-256 over the exact
    CosignedTreeHead octets under its key, the low s in minimal DER."""
    signed, cth, sig = cosigned_parts(cosignature, decode)
    if cth["witness"] != H(witness_spki) or cth["format"] != ID_AXIS + ".2.11" or cth["version"] != 1:
        return False
    try:
        r, s_ = decode_dss_signature(sig)
    except Exception:
        return False
    if encode_dss_signature(r, s_) != sig or not (0 < s_ <= (P256_N - 1) // 2):
        return False
    key = serialization.load_der_public_key(witness_spki)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return False
    try:
        key.verify(sig, signed, ec.ECDSA(hashes.SHA256()))
    except Exception:
        return False
    return True


def witnessed(head, log_spki, cosignatures, witness_spkis, k, decode):
    """FORMATS.md §11 "Verifying cosignatures": (the key ids of the witnesses whose cosignature
    verified, in the order given; None, or why the head is not cosigned by k of them)."""
    for index, c in enumerate(cosignatures):
        try:
            _, cth, _ = cosigned_parts(c, decode)
        except Exception:
            return [], "cosignature %d is malformed" % index
        if cth["log"] != H(log_spki) or cth["treeSize"] != head["treeSize"] or cth["rootHash"] != head["rootHash"]:
            return [], "cosignature %d is not of this tree head" % index
    by = []
    for w in witness_spkis:
        wid = H(w)
        if wid in by:
            continue
        mine = [(i, c) for i, c in enumerate(cosignatures) if cosigned_parts(c, decode)[1]["witness"] == wid]
        if mine:
            index, c = mine[0]
            if not cosignature_verifies(c, w, decode):
                return by, "cosignature %d does not verify under its witness's key" % index
            by.append(wid)
    if len(by) < k:
        return by, "the tree head is cosigned by %d of the %d witnesses given, %d required" % (len(by), len(witness_spkis), k)
    return by, None


def completeness_problems(comp, head, bundle, binding):
    """FORMATS.md §12.1, the verification step after the signature: what in the bundle does not
    match the completeness statement (an empty list when everything does)."""
    out = []
    if comp["format"] != ID_AXIS + ".2.8" or comp["version"] != 1:
        out.append("format or version")
    if comp["messageId"] != binding["messageId"]:
        out.append("message id")
    if comp["treeSize"] != head["treeSize"] or comp["rootHash"] != head["rootHash"]:
        out.append("tree head")
    if comp["acceptanceIndex"] != bundle["acceptance"]["leafIndex"]:
        out.append("acceptance index")
    listed = [c["recipient"] for c in comp["chains"]]
    if listed != binding["recipients"] and not (len(listed) == 1 and listed[0] in binding["recipients"]):
        out.append("recipients: neither all of the header's in order nor one of them")
    for st in bundle["statements"]:
        if st["recipient"] not in listed:
            out.append("%s: a statement for a recipient not covered" % st["recipient"])
    for c in comp["chains"]:
        mine = [st for st in bundle["statements"] if st["recipient"] == c["recipient"]]
        if len(mine) != c["count"]:
            out.append("%s: the log holds %d statement(s) as of %d, the bundle %d" % (c["recipient"], c["count"], comp["treeSize"], len(mine)))
        last = {"leafIndex": mine[-1]["logged"]["leafIndex"], "receiptDigest": H(mine[-1]["statement"])} if mine else None
        if c.get("last") != last:
            out.append("%s: the last statement is not the stated chain head" % c["recipient"])
    return out


# ----------------------------------------------------------------------------------------------
# Signing (FORMATS.md §5.1) and sealing (§8)
# ----------------------------------------------------------------------------------------------

ID_AXIS = "2.25.32435399129752126578442321803132622997"


def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def signing_time_der(t):
    if 1950 <= t.year < 2050:
        return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


def sign_cms(content, cert, key, chain, signing_time):
    """A detached AxisSignature over content, exactly as §5.1 draws it."""
    issuer_serial = seq(seq(tlv(0xA4, cert.issuer.public_bytes())), der_int(cert.serial_number))
    ess = seq(seq(seq(octets(H(cert_der(cert))), issuer_serial)))
    attrs = [
        seq(oid("1.2.840.113549.1.9.3"), der_set(oid(ID_DATA))),
        seq(oid("1.2.840.113549.1.9.4"), der_set(octets(H(content)))),
        seq(oid("1.2.840.113549.1.9.5"), der_set(signing_time_der(signing_time))),
        seq(oid(ID_SIGNING_CERT_V2), der_set(ess)),
    ]
    signed_set = der_set(*attrs)
    if isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(signed_set, padding.PKCS1v15(), hashes.SHA256())
        sig_alg = seq(oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    else:
        value = key.sign(signed_set, ec.ECDSA(hashes.SHA256()))
        sig_alg = seq(oid("1.2.840.10045.4.3.2"))
    signer_info = seq(
        der_int(1),
        issuer_and_serial(cert),
        seq(oid(ID_SHA256)),
        b"\xa0" + signed_set[1:],
        sig_alg,
        octets(value),
    )
    certs = b"\xa0" + der_set(cert_der(cert), *[cert_der(c) for c in chain])[1:]
    signed_data = seq(der_int(1), der_set(seq(oid(ID_SHA256))), seq(oid(ID_DATA)), certs, der_set(signer_info))
    return seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed_data))


def organization(o):
    return {
        "organId": o["organId"], "organizationInCharge": o.get("organizationInCharge", ""),
        "organName": o["organName"], "organAdd": "", "email": "", "telephone": "", "fax": "", "website": "",
    }


def seal_document(job_dir):
    """Seals the document that job_dir/seal.json describes (see the interop test `python`)."""
    spec = compile_spec()
    with open(os.path.join(job_dir, "seal.json")) as f:
        job = json.load(f)

    def path(name):
        return os.path.join(job_dir, name)

    def private(name):
        with open(path(name), "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)

    ca = load_cert(path("ca.crt"))
    seal_cert, personal_cert = load_cert(path("seal.crt")), load_cert(path("personal.crt"))
    recipients = [load_cert(path("enc-%s.crt" % o["organId"])) for o in job["to"]]
    signed_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    files = []
    for a in job["attachments"]:
        with open(path(a["file"]), "rb") as f:
            files.append(f.read())
    # 1-2: the manifest
    manifest = {
        "format": ID_AXIS + ".2.1", "version": 1,
        "from": organization(job["from"]), "to": [organization(o) for o in job["to"]],
        "code": {"number": job["code"][0], "notation": job["code"][1]},
        "promulgation": {"place": "", "date": signed_at.strftime("%Y/%m/%d")},
        "documentType": {"type": 1, "detail": 0, "name": ""},
        "subject": job["subject"], "content": "",
        "signerInfo": {"competence": "", "position": personal_cert.subject.get_attributes_for_oid(ObjectIdentifier("2.5.4.12"))[0].value,
                       "fullName": personal_cert.subject.get_attributes_for_oid(ObjectIdentifier("2.5.4.3"))[0].value},
        "dueDate": "", "toPlaces": [],
        "otherInfo": {"priority": 0, "sphereOfPromulgation": "", "typerNotation": "", "promulgationAmount": 1, "pageAmount": 1},
        "responseFor": [], "business": {"type": 0, "documentId": "", "reason": ""},
        "attachments": [
            {"name": a["name"], "contentType": a["contentType"], "description": "", "size": len(data), "sha256": H(data)}
            for a, data in zip(job["attachments"], files)
        ],
    }
    manifest_der = spec.encode("Manifest", manifest)
    # 3: two signatures over the same manifest bytes
    personal = sign_cms(manifest_der, personal_cert, private("personal.key"), [ca], signed_at)
    seal = sign_cms(manifest_der, seal_cert, private("seal.key"), [ca], signed_at)
    # 4: keys and envelope
    k, cek, iv = os.urandom(32), os.urandom(32), os.urandom(16)
    envelope, entries = key_envelope(k, cek, iv, [(c, None) for c in recipients])
    # 5: binding and its digest
    chunk_size = job["chunk_size"]
    binding = {
        "messageId": bytes.fromhex(job["message_id"].replace("-", "")),
        "sender": job["from"]["organId"], "recipients": [o["organId"] for o in job["to"]],
        "priority": 0, "chunkSize": chunk_size, "keyCommitment": key_commitment(k),
        "keyEnvelopeRoot": envelope_root(entries),
    }
    prefix = oid(ID_AXIS + ".2.2") + der_int(2) + spec.encode("Binding", binding)
    bdigest = H(prefix)
    # 6: the frames
    ciphertext = encrypt_parts(k, bdigest, chunk_size, [manifest_der, personal, seal] + files)
    # 7: the header and the submission signature
    header = spec.encode("RoutingHeader", {
        "format": ID_AXIS + ".2.2", "version": 2, "binding": binding,
        "ciphertextLength": len(ciphertext), "ciphertextDigest": H(ciphertext),
    })
    assert binding_digest(header) == bdigest
    submission = sign_cms(header, seal_cert, private("seal.key"), [ca], signed_at)
    out = {"header.der": header, "submission.cms": submission, "envelope.der": envelope, "ciphertext.bin": ciphertext, "manifest.der": manifest_der}
    for name, data in out.items():
        with open(path(name), "wb") as f:
            f.write(data)
    print("sealed %s: %d octets of ciphertext for %d recipients" % (job["message_id"], len(ciphertext), len(recipients)))


# ----------------------------------------------------------------------------------------------
# Opening a delivery (§9) and acknowledging it (§10): what a DMS does (examples/python/)
# ----------------------------------------------------------------------------------------------


def compile_spec():
    here = os.path.dirname(os.path.abspath(__file__))
    return asn1tools.compile_files(os.path.join(here, "..", "..", "formats.asn1"), "der")


def open_document(spec, header_der, submission, entry, ciphertext, me, enc_cert, enc_key, trust, at):
    """Opens a delivery as agency `me`; `entry` is its key-envelope entry as (entry DER, index,
    [path hashes]). Returns (manifest, manifest DER, [attachment bytes]). Raises ValueError
    naming the step that failed."""
    header = spec.decode("RoutingHeader", header_der)
    if spec.encode("RoutingHeader", header) != header_der:
        raise ValueError("routing header: not DER")
    binding = header["binding"]
    if verify_signature(submission, header_der, trust, PROFILE_SEAL, binding["sender"], at) is None:
        raise ValueError("submission signature")
    if header["version"] != 2:
        raise ValueError("routing header version %d" % header["version"])
    if me not in binding["recipients"]:
        raise ValueError("not a recipient")
    entry_der, index, path = entry
    mine = binding["recipients"].index(me)
    if index != mine or not entry_in_root(entry_der, mine, len(binding["recipients"]), path, binding["keyEnvelopeRoot"]):
        raise ValueError("key envelope entry not under the header's root")
    k = unwrap_content_key(entry_der, enc_cert, enc_key)
    if k is None or key_commitment(k) != binding["keyCommitment"]:
        raise ValueError("content key")
    if len(ciphertext) != header["ciphertextLength"]:
        raise ValueError("ciphertext length")
    parts = decrypt_frames(k, binding_digest(header_der), binding["chunkSize"], ciphertext)
    if len(parts) < 3:
        raise ValueError("truncated")
    manifest_der = parts[0]
    manifest = spec.decode("Manifest", manifest_der)
    sender = manifest["from"]["organId"]
    seal = verify_signature(parts[2], manifest_der, trust, PROFILE_SEAL, sender, at)
    if manifest.get("signatureForm", "personAndSeal") == "sealOnly":
        # No personal signature was made through Axis: part 1 is empty, the seal alone vouches.
        if parts[1] != b"" or seal is None:
            raise ValueError("manifest signatures")
    else:
        personal = verify_signature(parts[1], manifest_der, trust, PROFILE_PERSONAL, sender, at)
        if personal is None or seal is None or seal[0] < personal[0]:
            raise ValueError("manifest signatures")
    if sender != binding["sender"] or sorted(o["organId"] for o in manifest["to"]) != sorted(binding["recipients"]):
        raise ValueError("manifest and header disagree")
    if manifest["otherInfo"]["priority"] != binding["priority"]:
        raise ValueError("priority")
    files = parts[3:]
    if len(files) != len(manifest["attachments"]):
        raise ValueError("attachment count")
    for a, data in zip(manifest["attachments"], files):
        if a["size"] != len(data) or a["sha256"] != H(data):
            raise ValueError("attachment %s" % a["name"])
    return manifest, manifest_der, files


def document_id(manifest):
    return "%s,%s,%s/%s" % (manifest["from"]["organId"], manifest["promulgation"]["date"], manifest["code"]["number"], manifest["code"]["notation"])


def delivery_receipt(spec, manifest, manifest_der, header_der, me, seal_cert, seal_key, ca, now):
    """(Receipt DER, its signature): status 01 from `me` to the sender, the first of its chain."""
    header = spec.decode("RoutingHeader", header_der)
    now = now.replace(microsecond=0)
    receipt = spec.encode("Receipt", {
        "format": ID_AXIS + ".2.3", "version": 1,
        "messageId": header["binding"]["messageId"], "documentId": document_id(manifest),
        "from": me, "to": header["binding"]["sender"], "status": 1,
        "manifestDigest": H(manifest_der), "ciphertextDigest": header["ciphertextDigest"],
        "time": now, "previous": b"", "reason": "",
    })
    # the signature's signingTime equals the receipt's time (§10)
    return receipt, sign_cms(receipt, seal_cert, seal_key, [ca], now)


def load_cert_der(data):
    return x509.load_der_x509_certificate(data)


def main(argv):
    if len(argv) >= 3 and argv[1] == "vectors":
        check_vectors(argv[2])
    elif len(argv) >= 3 and argv[1] == "seal":
        seal_document(argv[2])
    else:
        print(__doc__)
        return 2
    if FAILURES:
        print("%d failures" % len(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
