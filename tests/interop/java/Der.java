// Reading the DER files the Rust tests write, shared by the Java helpers.

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;

final class Der {
    private Der() {}

    /** An X.509 certificate (DER or PEM), parsed by the JDK. */
    static X509Certificate cert(String path) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        return (X509Certificate) cf.generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(Path.of(path))));
    }

    /** An unencrypted PKCS#8 key (DER) of the same algorithm as `cert`'s key. */
    static PrivateKey key(String path, X509Certificate cert) throws Exception {
        return KeyFactory.getInstance(cert.getPublicKey().getAlgorithm())
                .generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(Path.of(path))));
    }
}
