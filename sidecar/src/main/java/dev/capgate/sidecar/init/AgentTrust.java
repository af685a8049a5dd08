package dev.capgate.sidecar.init;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.HexFormat;

/**
 * What agent containers trust, written by {@code capgate-init} into the pod's trust volume (an
 * emptyDir agents mount read-only): {@code pod-ca.crt} (the pod CA's root), {@code ca-bundle.pem}
 * (that root, then the system roots: the same bytes the operator used to store per pod) and {@code
 * truststore.p12} (the same certificates as a password-less PKCS#12 for Java).
 *
 * <p>The system roots come from a ConfigMap shared by the namespace's pods, which anyone allowed to
 * write ConfigMaps there could replace; the pod CA's root from the pod's CA Secret. Neither is used
 * unless its digest is the one the webhook put into this container's spec (which no one can change
 * on a running pod): a swapped file stops the pod here, before any agent runs, instead of making
 * agents trust someone else's roots.
 */
public final class AgentTrust {
  private final Path rootsFile;
  private final String rootsSha256;
  private final Path podCaFile;
  private final String podCaFingerprint;
  private final Path outDir;

  /**
   * @param rootsSha256 hex SHA-256 of the roots file's bytes
   * @param podCaFingerprint {@code sha256:<hex>} of the pod CA root's DER encoding
   */
  public AgentTrust(
      Path rootsFile, String rootsSha256, Path podCaFile, String podCaFingerprint, Path outDir) {
    this.rootsFile = rootsFile;
    this.rootsSha256 = rootsSha256;
    this.podCaFile = podCaFile;
    this.podCaFingerprint = podCaFingerprint;
    this.outDir = outDir;
  }

  /**
   * @return how many system roots were written besides the pod CA
   * @throws RulesApplier.InitFailure when a digest does not match or a file cannot be read/written
   */
  public int write() {
    byte[] roots = read(rootsFile, "the system roots");
    String actual = sha256Hex(roots);
    if (!actual.equalsIgnoreCase(rootsSha256)) {
      throw new RulesApplier.InitFailure(
          "the system roots in "
              + rootsFile
              + " are not the ones the webhook chose (sha256 "
              + actual
              + ", expected "
              + rootsSha256
              + "): their ConfigMap was changed; delete it and recreate the pod, the operator"
              + " writes it again");
    }
    byte[] podCaPem = read(podCaFile, "the pod CA");
    X509Certificate podCa = single(podCaPem);
    String fingerprint = fingerprint(podCa);
    if (!fingerprint.equalsIgnoreCase(podCaFingerprint)) {
      throw new RulesApplier.InitFailure(
          "the pod CA in "
              + podCaFile
              + " is not this pod's ("
              + fingerprint
              + ", expected "
              + podCaFingerprint
              + ")");
    }
    Collection<? extends Certificate> systemRoots = parse(roots, "the system roots");
    byte[] bundle = new byte[podCaPem.length + roots.length];
    System.arraycopy(podCaPem, 0, bundle, 0, podCaPem.length);
    System.arraycopy(roots, 0, bundle, podCaPem.length, roots.length);
    writeFile("pod-ca.crt", podCaPem);
    writeFile("ca-bundle.pem", bundle);
    writeFile("truststore.p12", pkcs12(podCa, systemRoots));
    return systemRoots.size();
  }

  /**
   * No password: the JDK then writes neither a MAC nor encrypted certificate bags, and loads the
   * file with {@code -Djavax.net.ssl.trustStoreType=PKCS12} and no {@code trustStorePassword}.
   */
  static byte[] pkcs12(X509Certificate podCa, Collection<? extends Certificate> roots) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("capgate-pod-ca", podCa);
      int i = 0;
      for (Certificate root : roots) {
        store.setCertificateEntry("root-" + i++, root);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      store.store(out, null);
      return out.toByteArray();
    } catch (IOException | GeneralSecurityException e) {
      throw new RulesApplier.InitFailure("cannot write the PKCS#12 truststore: " + e);
    }
  }

  private void writeFile(String name, byte[] content) {
    // Written beside, then renamed: an agent never sees half a file (a restarted pod reruns init).
    Path target = outDir.resolve(name);
    Path temp = outDir.resolve("." + name + ".tmp");
    try {
      Files.write(temp, content);
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new RulesApplier.InitFailure("cannot write " + target + ": " + e);
    }
  }

  private static byte[] read(Path file, String what) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new RulesApplier.InitFailure("cannot read " + what + " from " + file + ": " + e);
    }
  }

  private static Collection<? extends Certificate> parse(byte[] pem, String what) {
    try {
      return CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem));
    } catch (GeneralSecurityException e) {
      throw new RulesApplier.InitFailure("cannot parse " + what + ": " + e);
    }
  }

  private static X509Certificate single(byte[] pem) {
    Collection<? extends Certificate> all = parse(pem, "the pod CA");
    if (all.size() != 1) {
      throw new RulesApplier.InitFailure(
          "the pod CA file holds " + all.size() + " certificates, not one");
    }
    return (X509Certificate) all.iterator().next();
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String fingerprint(X509Certificate certificate) {
    try {
      return "sha256:" + sha256Hex(certificate.getEncoded());
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new RulesApplier.InitFailure("cannot encode the pod CA: " + e);
    }
  }
}
