// Go's standard library against a running axis-server (issue #12), as grpcurl and every Go
// tool see Axis: crypto/x509 parses the certificates (before Go 1.22 it refused any OID
// component >= 2^31, such as the old 2.25.<UUID> policy arc), crypto/tls does the mutual
// handshake, and net/http's HTTP/2 client makes a real gRPC call.
//
//	go run main.go -port PORT -root ROOT.pem -ca CA.pem -cert CLIENT.pem -key CLIENT.key.pem
//	go run main.go -parse-only -root CERT.pem
//
// Steps: parse and chain-verify every certificate (the client's for clientAuth, unless
// -skip-chain-check); handshake with ALPN h2 and verify the server (host name "localhost");
// call grpc.health.v1.Health/Check for the empty service and for each name given with
// -service; print one line per step. -parse-only stops after parsing the -root file. Exit
// status 0 on success, 1 with a message on stderr otherwise. Standard library only.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

type services []string

func (s *services) String() string     { return strings.Join(*s, ",") }
func (s *services) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	port := flag.Int("port", 0, "the axis's TLS port on 127.0.0.1")
	root := flag.String("root", "", "root certificate (PEM)")
	ca := flag.String("ca", "", "issuing CA certificate (PEM)")
	cert := flag.String("cert", "", "client certificate (PEM)")
	key := flag.String("key", "", "client key (PKCS#8 PEM, unencrypted)")
	parseOnly := flag.Bool("parse-only", false, "only parse the -root certificate")
	skipChain := flag.Bool("skip-chain-check", false, "do not verify the client's chain first")
	var names services
	flag.Var(&names, "service", "a service name to health-check (repeatable)")
	flag.Parse()
	var err error
	if *parseOnly {
		var c *x509.Certificate
		if c, err = parse(*root); err == nil {
			fmt.Printf("parsed %s policies=%v\n", c.Subject, c.PolicyIdentifiers)
		}
	} else {
		err = run(*port, *root, *ca, *cert, *key, names, *skipChain)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-interop:", err)
		os.Exit(1)
	}
}

func parse(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func run(port int, rootPath, caPath, certPath, keyPath string, names services, skipChain bool) error {
	// Parse and chain-verify.
	root, err := parse(rootPath)
	if err != nil {
		return err
	}
	ca, err := parse(caPath)
	if err != nil {
		return err
	}
	leaf, err := parse(certPath)
	if err != nil {
		return err
	}
	for _, c := range []*x509.Certificate{root, ca, leaf} {
		fmt.Printf("parsed %s policies=%v\n", c.Subject, c.PolicyIdentifiers)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	inter := x509.NewCertPool()
	inter.AddCert(ca)
	if !skipChain {
		chains, err := leaf.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return fmt.Errorf("client certificate: %w", err)
		}
		fmt.Printf("verified client chain of %d\n", len(chains[0]))
	}

	// Handshake.
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(caPath)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return err
	}
	pair, err := tls.X509KeyPair(append(certPEM, caPEM...), keyPEM)
	if err != nil {
		return fmt.Errorf("client key pair: %w", err)
	}
	config := &tls.Config{
		RootCAs:      roots,
		Certificates: []tls.Certificate{pair},
		ServerName:   "localhost",
		NextProtos:   []string{"h2"},
		MinVersion:   tls.VersionTLS12,
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	conn, err := tls.Dial("tcp", addr, config)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	state := conn.ConnectionState()
	fmt.Printf("handshake %s %s alpn=%s server=%s\n", versionName(state.Version),
		tls.CipherSuiteName(state.CipherSuite), state.NegotiatedProtocol,
		state.PeerCertificates[0].Subject)
	conn.Close()

	// gRPC over HTTP/2.
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: config, ForceAttemptHTTP2: true},
	}
	for _, name := range append([]string{""}, names...) {
		status, message, err := healthCheck(client, port, name)
		if err != nil {
			return fmt.Errorf("Health/Check %q: %w", name, err)
		}
		fmt.Printf("grpc service=%q grpc-status=%s message=%s\n", name, status, message)
	}
	return nil
}

// versionName: tls.VersionName arrived only in Go 1.21.
func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	default:
		return fmt.Sprintf("0x%04x", v)
	}
}

// healthCheck calls grpc.health.v1.Health/Check for `service`; returns the grpc-status and the
// response message (hex, without the 5-byte gRPC frame header).
func healthCheck(client *http.Client, port int, service string) (string, string, error) {
	// HealthCheckRequest { string service = 1; }, gRPC-framed.
	var msg []byte
	if service != "" {
		msg = append([]byte{0x0a, byte(len(service))}, service...)
	}
	body := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	url := fmt.Sprintf("https://localhost:%d/grpc.health.v1.Health/Check", port)
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("content-type", "application/grpc")
	req.Header.Set("te", "trailers")
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body) // trailers arrive after the body
	if err != nil {
		return "", "", err
	}
	if resp.ProtoMajor != 2 {
		return "", "", fmt.Errorf("answered over %s, not HTTP/2", resp.Proto)
	}
	status := resp.Trailer.Get("grpc-status")
	if status == "" {
		status = resp.Header.Get("grpc-status") // a trailers-only answer
	}
	if len(data) >= 5 {
		data = data[5:]
	} else if len(data) != 0 {
		return "", "", errors.New("a truncated gRPC frame")
	}
	return status, hex.EncodeToString(data), nil
}
