// Java's own TLS (JSSE) and HTTP/2 client against a running axis-server (issue #12): no
// BouncyCastle here, only the JDK, as a Java DMS would connect.
//
//   java JsseClient PORT ROOT.der CLIENT.der CA.der CLIENT.pk8
//
// 1. Parses the root, the issuing CA and the client certificate (X.509 CertificateFactory).
// 2. A mutual-TLS handshake (client certificate CLIENT + CA, trust anchor ROOT only, host name
//    "localhost" checked) with ALPN h2; prints the protocol, cipher suite and server subject.
// 3. A real gRPC call over java.net.http's HTTP/2 client: grpc.health.v1.Health/Check for the
//    empty service; prints the HTTP status and the response message in hex.
//
// Exit status 0 on success, 1 with a message on stderr otherwise.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public final class JsseClient {
    private JsseClient() {}

    public static void main(String[] args) {
        if (args.length != 5) {
            System.err.println("usage: JsseClient PORT ROOT.der CLIENT.der CA.der CLIENT.pk8");
            System.exit(2);
        }
        try {
            run(Integer.parseInt(args[0]), args[1], args[2], args[3], args[4]);
        } catch (Exception e) {
            System.err.println("JsseClient: " + e);
            System.exit(1);
        }
    }

    static void run(int port, String rootPath, String clientPath, String caPath, String keyPath)
            throws Exception {
        // Step 1.
        X509Certificate root = Der.cert(rootPath);
        X509Certificate client = Der.cert(clientPath);
        X509Certificate ca = Der.cert(caPath);
        for (X509Certificate c : new X509Certificate[] {root, ca, client}) {
            System.out.println("parsed " + c.getSubjectX500Principal() + " policies="
                    + c.getExtensionValue("2.5.29.32").length + "B");
        }
        PrivateKey key = Der.key(keyPath, client);

        char[] none = new char[0];
        KeyStore identity = KeyStore.getInstance("PKCS12");
        identity.load(null, none);
        identity.setKeyEntry("client", key, none, new Certificate[] {client, ca});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(identity, none);
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, none);
        anchors.setCertificateEntry("root", root);
        TrustManagerFactory tmf =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(anchors);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

        // Step 2.
        try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("localhost", port)) {
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            p.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(p);
            s.startHandshake();
            X509Certificate server = (X509Certificate) s.getSession().getPeerCertificates()[0];
            System.out.println("handshake " + s.getSession().getProtocol() + " "
                    + s.getSession().getCipherSuite() + " alpn=" + s.getApplicationProtocol()
                    + " server=" + server.getSubjectX500Principal());
        }

        // Step 3.
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        HttpRequest req = HttpRequest.newBuilder(
                        URI.create("https://localhost:" + port + "/grpc.health.v1.Health/Check"))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                // An empty HealthCheckRequest (service ""), gRPC-framed: uncompressed, length 0.
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[5]))
                .build();
        HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        System.out.println("grpc " + resp.version() + " status=" + resp.statusCode()
                + " message=" + HexFormat.of().formatHex(resp.body()));
    }
}
