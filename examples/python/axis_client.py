#!/usr/bin/env python3
"""A small Axis client in Python: the starting point for a DMS team in another language.

It connects to an axis over mutual TLS as one agency, subscribes to its inbox, and for each
delivery fetches the ciphertext, opens it (FORMATS.md §9: submission signature, key envelope,
key commitment, frames, manifest signatures, attachment digests), writes the attachments to a
folder, and acknowledges it with a signed delivery receipt (status 01, FORMATS.md §10).

    python3 axis_client.py --endpoint 127.0.0.1:7443 --agency 000.00.00.H41 \\
        --root root.pem --tls-cert tls.pem --tls-key tls.key \\
        --seal-cert seal.pem --seal-key seal.key --enc-cert enc.pem --enc-key enc.key \\
        --out inbox/ [--count 1] [--after CURSOR]

Keys are unencrypted PKCS#8 PEM here for brevity; a real DMS keeps them in an HSM or at least
encrypted. The gRPC stubs are generated at start from the repository's `proto/` with
grpcio-tools, so they never drift from the server. The format code (DER, CMS, envelope,
frames) is the test suite's independent implementation, `tests/python/axis_formats.py`, written
from FORMATS.md alone; copy both files. Needs: grpcio grpcio-tools cryptography asn1crypto
asn1tools.
"""

import argparse
import datetime
import importlib
import os
import sys
import tempfile

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(REPO, "tests", "python"))
import axis_formats as axf  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402


def generate_stubs():
    """Compiles proto/axis/v1/*.proto into a temporary folder and imports the modules."""
    out = tempfile.mkdtemp(prefix="axis-stubs-")
    proto_dir = os.path.join(REPO, "proto")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")  # google/protobuf/*.proto
    files = ["axis/v1/exchange.proto", "axis/v1/directory.proto", "axis/v1/log.proto"]
    args = ["protoc", "-I" + proto_dir, "-I" + include, "--python_out=" + out, "--grpc_python_out=" + out]
    if protoc.main(args + files) != 0:
        raise SystemExit("protoc failed on " + proto_dir)
    sys.path.insert(0, out)
    return {
        name: importlib.import_module("axis.v1.%s" % name)
        for name in ("exchange_pb2", "exchange_pb2_grpc", "directory_pb2", "directory_pb2_grpc")
    }


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", required=True, help="host:port of the axis")
    p.add_argument("--server-name", default="localhost", help="the name in the axis's TLS certificate")
    p.add_argument("--agency", required=True, help="this agency's id, e.g. 000.00.00.H41")
    for name in ("root", "tls-cert", "tls-key", "seal-cert", "seal-key", "enc-cert", "enc-key"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--out", required=True, help="folder for the opened attachments")
    p.add_argument("--after", default="", help="subscribe after this cursor (resume)")
    p.add_argument("--count", type=int, default=0, help="stop after this many deliveries (0: never)")
    a = p.parse_args()
    pb = generate_stubs()

    # Mutual TLS: the agency's TLS client certificate (with its issuing CA) and the axis root.
    creds = grpc.ssl_channel_credentials(read(a.root), read(a.tls_key), read(a.tls_cert))
    channel = grpc.secure_channel(a.endpoint, creds, options=[("grpc.ssl_target_name_override", a.server_name)])
    exchange = pb["exchange_pb2_grpc"].ExchangeStub(channel)
    directory = pb["directory_pb2_grpc"].DirectoryStub(channel)

    # Trust: only the root comes from out of band; issuing CAs and current CRLs from the axis.
    material = directory.GetTrustMaterial(pb["directory_pb2"].GetTrustMaterialRequest())
    root = axf.load_cert(a.root)
    trust = axf.Trust(root, [x509.load_der_x509_certificate(c) for c in material.intermediates],
                      [x509.load_der_x509_crl(c) for c in material.crls])
    spec = axf.compile_spec()
    enc_cert, seal_cert = axf.load_cert(a.enc_cert), axf.load_cert(a.seal_cert)
    enc_key = serialization.load_pem_private_key(read(a.enc_key), None)
    seal_key = serialization.load_pem_private_key(read(a.seal_key), None)
    seal_ca = next(c for c in trust.cas if c.subject == seal_cert.issuer)

    os.makedirs(a.out, exist_ok=True)
    done = 0
    for d in exchange.Subscribe(pb["exchange_pb2"].SubscribeRequest(after_cursor=a.after)):
        # Fetch the whole ciphertext (a real client resumes from `offset` after a break).
        ciphertext = b"".join(r.chunk for r in exchange.Fetch(pb["exchange_pb2"].FetchRequest(message_id=d.message_id)))
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            manifest, manifest_der, files = axf.open_document(
                spec, d.routing_header, d.submission_signature,
                (d.key_envelope_entry.entry, d.key_envelope_entry.index, list(d.key_envelope_entry.path)),
                ciphertext,
                a.agency, enc_cert, enc_key, trust, now)
        except Exception as e:  # refuse it: never acknowledge what did not open
            print("refused %s: %s" % (d.message_id, e), flush=True)
            continue
        folder = os.path.join(a.out, d.message_id)
        os.makedirs(folder, exist_ok=True)
        for att, data in zip(manifest["attachments"], files):
            with open(os.path.join(folder, os.path.basename(att["name"])), "wb") as f:
                f.write(data)
        receipt, signature = axf.delivery_receipt(spec, manifest, manifest_der, d.routing_header,
                                                  a.agency, seal_cert, seal_key, seal_ca, now)
        exchange.Acknowledge(pb["exchange_pb2"].AcknowledgeRequest(
            receipt=pb["exchange_pb2"].SignedStatement(statement=receipt, signature=signature)))
        print("opened %s from %s: %s (%d attachments), acknowledged; cursor %s"
              % (d.message_id, d.sender, axf.document_id(manifest), len(files), d.cursor), flush=True)
        done += 1
        if a.count and done >= a.count:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
