"""Python's standard library against a running axis-server (issue #12): the ssl module does the
mutual-TLS handshake and parses the server's certificate; a minimal HTTP/2 exchange (RFC 9113,
HPACK literals only) makes one real gRPC call, grpc.health.v1.Health/Check for the empty service.

    python3 tls_client.py PORT ROOT.pem CHAIN.pem KEY.pem

CHAIN.pem is the client certificate then its issuing CA; KEY.pem its unencrypted PKCS#8 key.
Prints the TLS version, cipher, ALPN and the server certificate's subject and names, then the
gRPC response message in hex. Exit status 0 on success, 1 with a message on stderr otherwise.
Standard library only.
"""

import socket
import ssl
import struct
import sys

DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    """RFC 7541 §6.2.2: literal header field without indexing, new name, no Huffman coding."""
    name, value = name.encode(), value.encode()
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def read_exact(tls, n):
    out = b""
    while len(out) < n:
        chunk = tls.recv(n - len(out))
        if not chunk:
            raise ConnectionError("the axis closed the connection")
        out += chunk
    return out


def health_check(tls, authority):
    headers = b"".join(
        literal(k, v)
        for k, v in [
            (":method", "POST"),
            (":scheme", "https"),
            (":path", "/grpc.health.v1.Health/Check"),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
    )
    tls.sendall(
        PREFACE
        + frame(SETTINGS, 0, 0)
        + frame(HEADERS, END_HEADERS, 1, headers)
        # An empty HealthCheckRequest (service ""), gRPC-framed: uncompressed, length 0.
        + frame(DATA, END_STREAM, 1, b"\x00\x00\x00\x00\x00")
    )
    message = b""
    while True:
        head = read_exact(tls, 9)
        length = int.from_bytes(head[:3], "big")
        kind, flags = head[3], head[4]
        stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload = read_exact(tls, length)
        if kind == SETTINGS and not flags & ACK:
            tls.sendall(frame(SETTINGS, ACK, 0))
        elif kind in (GOAWAY, RST_STREAM):
            raise ConnectionError(f"the axis ended the exchange (frame type {kind}): {payload.hex()}")
        elif kind == DATA and stream == 1:
            message += payload
        if stream == 1 and flags & END_STREAM:
            return message


def main(port, root, chain, key):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=root)
    ctx.load_cert_chain(chain, key)
    ctx.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            peer = tls.getpeercert()
            subject = ", ".join(f"{k}={v}" for rdn in peer["subject"] for k, v in rdn)
            names = ", ".join(f"{k}:{v}" for k, v in peer.get("subjectAltName", ()))
            print(f"handshake {tls.version()} {tls.cipher()[0]} alpn={tls.selected_alpn_protocol()}"
                  f" server={subject} names={names}")
            message = health_check(tls, f"localhost:{port}")
            print(f"grpc message={message.hex()}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        main(int(sys.argv[1]), *sys.argv[2:])
    except (OSError, ValueError, KeyError) as e:
        print(f"python-interop: {e!r}", file=sys.stderr)
        sys.exit(1)
