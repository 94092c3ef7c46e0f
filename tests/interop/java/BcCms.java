// BouncyCastle's CMS, as a Java DMS would use it, against Axis signatures (issue #12).
//
//   java BcCms sign [--bare] KEY.pk8 CERT.der CONTENT OUT.der [CHAIN.der…]
//       A detached SignedData over CONTENT made by BouncyCastle's default generator
//       (CMSSignedDataGenerator + JcaSimpleSignerInfoGeneratorBuilder: contentType, signingTime,
//       messageDigest and CMSAlgorithmProtection), plus the signingCertificateV2 attribute the
//       Axis profile requires, given to that same default generator as an extra attribute
//       (--bare: without it, exactly BouncyCastle's defaults).
//   java BcCms verify SIG.der CONTENT ROOT.der
//       Verifies every SignerInfo with the certificate the signature carries, then the PKIX path
//       from it to ROOT (JDK CertPathValidator; revocation is Axis's business, not tested here).
//       Prints one line per signer: "verified <subject> attrs=<OIDs of the signed attributes>".
//
// Exit status 0 on success, 1 with a message on stderr otherwise.

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.ess.ESSCertIDv2;
import org.bouncycastle.asn1.ess.SigningCertificateV2;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuerSerial;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public final class BcCms {
    private BcCms() {}

    public static void main(String[] args) {
        Security.addProvider(new BouncyCastleProvider());
        try {
            if (args.length >= 6 && args[0].equals("sign") && args[1].equals("--bare")) {
                sign(java.util.Arrays.copyOfRange(args, 1, args.length), false);
            } else if (args.length >= 5 && args[0].equals("sign")) {
                sign(args, true);
            } else if (args.length == 4 && args[0].equals("verify")) {
                verify(args);
            } else {
                System.err.println("usage: BcCms sign [--bare] KEY.pk8 CERT.der CONTENT OUT.der [CHAIN.der…]"
                        + " | BcCms verify SIG.der CONTENT ROOT.der");
                System.exit(2);
            }
        } catch (Exception e) {
            System.err.println("BcCms: " + e);
            System.exit(1);
        }
    }

    static void sign(String[] args, boolean signingCertificate) throws Exception {
        X509Certificate cert = Der.cert(args[2]);
        String keyAlg = cert.getPublicKey().getAlgorithm(); // "RSA" or "EC"
        PrivateKey key = Der.key(args[1], cert);
        byte[] content = Files.readAllBytes(Path.of(args[3]));
        List<X509Certificate> certs = new ArrayList<>();
        certs.add(cert);
        for (int i = 5; i < args.length; i++) {
            certs.add(Der.cert(args[i]));
        }

        // RFC 5035 signingCertificateV2: SHA-256 (the default, omitted) of the certificate and
        // its issuer and serial.
        X509CertificateHolder holder = new JcaX509CertificateHolder(cert);
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        IssuerSerial issuerSerial = new IssuerSerial(
                new GeneralNames(new GeneralName(holder.getIssuer())), holder.getSerialNumber());
        SigningCertificateV2 scv2 =
                new SigningCertificateV2(new ESSCertIDv2[] {new ESSCertIDv2(hash, issuerSerial)});
        AttributeTable extra = new AttributeTable(
                new Attribute(PKCSObjectIdentifiers.id_aa_signingCertificateV2, new DERSet(scv2)));

        String sigAlg = keyAlg.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        JcaSimpleSignerInfoGeneratorBuilder builder =
                new JcaSimpleSignerInfoGeneratorBuilder().setProvider("BC");
        if (signingCertificate) {
            builder.setSignedAttributeGenerator(extra);
        }
        CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
        gen.addSignerInfoGenerator(builder.build(sigAlg, key, cert));
        gen.addCertificates(new JcaCertStore(certs));
        CMSSignedData signed = gen.generate(new CMSProcessableByteArray(content), false);
        Files.write(Path.of(args[4]), signed.getEncoded(ASN1Encoding.DER));
    }

    @SuppressWarnings("unchecked") // BouncyCastle's SignerId is a raw Selector
    static void verify(String[] args) throws Exception {
        byte[] sig = Files.readAllBytes(Path.of(args[1]));
        byte[] content = Files.readAllBytes(Path.of(args[2]));
        X509Certificate root = Der.cert(args[3]);
        CMSSignedData signed = new CMSSignedData(new CMSProcessableByteArray(content), sig);
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter().setProvider("BC");
        List<X509Certificate> carried = new ArrayList<>();
        for (X509CertificateHolder h : signed.getCertificates().getMatches(null)) {
            carried.add(conv.getCertificate(h));
        }
        Collection<SignerInformation> signers = signed.getSignerInfos().getSigners();
        if (signers.isEmpty()) {
            throw new IllegalStateException("no SignerInfo");
        }
        for (SignerInformation si : signers) {
            Collection<X509CertificateHolder> matches = signed.getCertificates().getMatches(si.getSID());
            if (matches.isEmpty()) {
                throw new IllegalStateException("the signer certificate is not in the signature");
            }
            X509CertificateHolder holder = matches.iterator().next();
            if (!si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(holder))) {
                throw new IllegalStateException("signature does not verify");
            }
            // The path: the signer certificate, then the others it carries, to the root.
            X509Certificate leaf = conv.getCertificate(holder);
            List<X509Certificate> path = new ArrayList<>();
            path.add(leaf);
            for (X509Certificate c : carried) {
                if (!c.equals(leaf) && !c.equals(root)) {
                    path.add(c);
                }
            }
            CertPath cp = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
            params.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(cp, params);
            Set<String> attrs = new TreeSet<>();
            for (Attribute a : si.getSignedAttributes().toASN1Structure().getAttributes()) {
                attrs.add(a.getAttrType().getId());
            }
            System.out.println("verified " + leaf.getSubjectX500Principal() + " attrs=" + attrs);
        }
    }
}
