#!/usr/bin/env python3
"""Checks formats.asn1 against the code: it compiles (asn1tools), every OID of the signer's
register is defined in it with the same value, and every structure listed in an index file
decodes under its ASN.1 type and re-encodes to exactly the same bytes.

    python3 asn1_check.py REPO_ROOT INDEX [INDEX...]

An INDEX file has one line per structure, `FILE TYPE` (FILE relative to the index's folder);
blank lines and lines starting with `#` are skipped. Exit status 0 when everything holds; every
failure is printed. Run by the `formats` test of the tests crate, which fails without python3.
"""

import os
import re
import sys

import asn1tools

MODULE = "AxisFormats"

# attrType -> the ASN.1 type of its value (formats.asn1 §8)
ATTRIBUTE_VALUES = {
    "1.2.840.113549.1.9.3": "ContentTypeValue",
    "1.2.840.113549.1.9.4": "MessageDigestValue",
    "1.2.840.113549.1.9.5": "SigningTimeValue",
    "1.2.840.113549.1.9.16.2.47": "SigningCertificateV2",
    "1.2.840.113549.1.9.52": "CMSAlgorithmProtection",
    "1.2.840.113549.1.9.15": "SMIMECapabilities",
}

# Structures that carry other structures' DER in OCTET STRINGs: field -> type.
NESTED = {
    "LogProof": {"treeHead": "TreeHead", "signature": "AxisSignature"},
    "SignedTreeHeadFile": {"treeHead": "TreeHead", "signature": "AxisSignature"},
    "Cosignature": {"signature": "EcdsaSigValue"},
    "DirectorySnapshot": {"directoryVersion": "DirectoryVersion", "signature": "AxisSignature"},
    "EvidenceBundle": {
        "routingHeader": "RoutingHeader",
        "submissionSignature": "AxisSignature",
        "treeHead": "TreeHead",
        "treeHeadSignature": "AxisSignature",
        "completeness": "Completeness",
        "completenessSignature": "AxisSignature",
    },
}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def resolve_oids(parsed):
    """Dotted form of every OBJECT IDENTIFIER value of the module."""
    values = parsed[MODULE]["values"]
    out = {}

    def dotted(name, depth=0):
        if name in out:
            return out[name]
        if depth > 20:
            raise ValueError("OID loop at " + name)
        parts = []
        for c in values[name]["value"]:
            if isinstance(c, int):
                parts.append(str(c))
            elif isinstance(c, str) and c.isdigit():
                parts.append(c)
            else:
                parts.append(dotted(c, depth + 1))
        out[name] = ".".join(parts)
        return out[name]

    for name, v in values.items():
        if v["type"] == "OBJECT IDENTIFIER":
            dotted(name)
    return out


def register_oids(root):
    """The OIDs the code uses: the signer's CMS and algorithm OIDs (the pairs its own test checks
    against their content octets) and the format register under AXIS_OID_ARC."""
    oid_rs = open(os.path.join(root, "signer/src/cms/oid.rs"), encoding="utf-8").read()
    pairs = re.findall(r'\(([A-Z0-9_]+), "([0-9.]+)"\)', oid_rs)
    if len(pairs) < 15:
        fail("signer/src/cms/oid.rs: expected its table of (CONSTANT, \"dotted\") pairs")
    profile = open(os.path.join(root, "pki/src/profile.rs"), encoding="utf-8").read()
    arc = re.search(r'pub const AXIS_OID_ARC: &str = "([0-9.]+)";', profile).group(1)
    formats = re.findall(r"^\s+([A-Za-z]+) = (\d+),$", oid_rs, re.M)
    if len(formats) < 7:
        fail("signer/src/cms/oid.rs: expected the Format enum's numbers")
    oids = {name: dotted for name, dotted in pairs}
    for name, n in formats:
        oids["Format::" + name] = "%s.2.%s" % (arc, n)
    return oids


def check_oids(root, defined):
    by_value = {}
    for name, dotted in defined.items():
        by_value.setdefault(dotted, []).append(name)
    for code_name, dotted in register_oids(root).items():
        if dotted not in by_value:
            fail("OID %s (%s) of the code is not defined in formats.asn1" % (code_name, dotted))
    expected_formats = {
        "id-axis-manifest": "Manifest",
        "id-axis-routing-header": "RoutingHeader",
        "id-axis-receipt": "Receipt",
        "id-axis-log-entry": "LogEntry",
        "id-axis-tree-head": "TreeHead",
        "id-axis-log-proof": "LogProof",
        "id-axis-evidence-bundle": "EvidenceBundle",
        "id-axis-completeness": "Completeness",
        "id-axis-cosignature": "Cosignature",
        "id-axis-directory-version": "DirectoryVersion",
        "id-axis-directory-snapshot": "DirectorySnapshot",
    }
    register = register_oids(root)
    for asn1_name, fmt in expected_formats.items():
        if defined.get(asn1_name) != register.get("Format::" + fmt):
            fail("%s is %s in formats.asn1 but Format::%s is %s in the code"
                 % (asn1_name, defined.get(asn1_name), fmt, register.get("Format::" + fmt)))
    return expected_formats


def roundtrip(spec, type_name, data, where):
    try:
        value = spec.decode(type_name, data, check_constraints=True)
    except Exception as e:  # noqa: BLE001 - any decoder error is a failure to report
        fail("%s: does not decode as %s: %s" % (where, type_name, e))
        return None
    try:
        again = spec.encode(type_name, value)
    except Exception as e:  # noqa: BLE001
        fail("%s: decoded as %s but does not encode again: %s" % (where, type_name, e))
        return None
    if bytes(again) != bytes(data):
        fail("%s: %s re-encodes to other bytes (%d vs %d octets)"
             % (where, type_name, len(again), len(data)))
        return None
    return value


def check_signature(spec, value, where):
    """Decodes every signed attribute under its value type."""
    sd = value["content"]
    for si in sd["signerInfos"]:
        for attr in si["signedAttrs"]:
            t = ATTRIBUTE_VALUES.get(attr["attrType"])
            if t is None:
                fail("%s: signed attribute %s is not in the profile" % (where, attr["attrType"]))
                continue
            for v in attr["attrValues"]:
                roundtrip(spec, t, bytes(v), "%s attribute %s" % (where, t))


def check_envelope(spec, value, where):
    """Decodes every entry's OAEP and ECDH algorithm parameters under their types."""
    for i, entry in enumerate(value):
        check_entry(spec, entry, "%s entry %d" % (where, i))


def check_entry(spec, value, where):
    """Decodes the OAEP and ECDH algorithm parameters under their types."""
    for kind, ri in value["content"]["recipientInfos"]:
        alg = ri["keyEncryptionAlgorithm"]
        if kind == "ktri":
            roundtrip(spec, "RSAES-OAEP-params", bytes(alg["parameters"]), where + " OAEP")
        else:
            roundtrip(spec, "AlgorithmIdentifier", bytes(alg["parameters"]), where + " KDF")
    eci = value["content"]["encryptedContentInfo"]
    roundtrip(spec, "AES-IV", bytes(eci["contentEncryptionAlgorithm"]["parameters"]),
              where + " IV")


def check_value(spec, type_name, value, where):
    if type_name == "AxisSignature":
        check_signature(spec, value, where)
    elif type_name == "KeyEnvelope":
        check_envelope(spec, value, where)
    elif type_name == "KeyEnvelopeEntry":
        check_entry(spec, value, where)
    for field, inner in NESTED.get(type_name, {}).items():
        if field not in value:  # a version 1 bundle has no completeness
            continue
        v = roundtrip(spec, inner, bytes(value[field]), "%s.%s" % (where, field))
        if v is not None:
            check_value(spec, inner, v, "%s.%s" % (where, field))
    if type_name == "EvidenceBundle":
        for i, s in enumerate([value["acceptance"]] + [s["logged"] for s in value["statements"]]):
            roundtrip(spec, "LogEntry", bytes(s["entry"]), "%s entry %d" % (where, i))
        for i, s in enumerate(value["statements"]):
            roundtrip(spec, "Receipt", bytes(s["statement"]), "%s statement %d" % (where, i))
            v = roundtrip(spec, "AxisSignature", bytes(s["signature"]),
                          "%s statement %d signature" % (where, i))
            if v is not None:
                check_signature(spec, v, "%s statement %d signature" % (where, i))


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    root = argv[1]
    path = os.path.join(root, "formats.asn1")
    spec = asn1tools.compile_files(path, "der")
    defined = resolve_oids(asn1tools.parse_files(path))
    check_oids(root, defined)
    seen_types = set()
    count = 0
    for index in argv[2:]:
        folder = os.path.dirname(os.path.abspath(index))
        for line in open(index, encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, type_name = line.split()
            data = open(os.path.join(folder, name), "rb").read()
            value = roundtrip(spec, type_name, data, name)
            if value is not None:
                check_value(spec, type_name, value, name)
            seen_types.add(type_name)
            count += 1
    # Every structure Axis signs or stores has at least one example.
    for t in ["Manifest", "RoutingHeader", "Receipt", "LogEntry", "TreeHead", "LogProof",
              "EvidenceBundle", "Completeness", "AxisSignature", "KeyEnvelope", "KeyEnvelopeEntry",
              "SignedTreeHeadFile", "Cosignature", "DirectoryVersion", "DirectoryList",
              "DirectorySnapshot"]:
        if t not in seen_types:
            fail("no structure of type %s was checked" % t)
    print("%d structures checked against formats.asn1, %d OIDs defined" % (count, len(defined)))
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
