package dev.capgate.testkit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Writes a one-cluster, one-user kubeconfig with everything embedded (no file references), so it
 * stays valid when copied and works for kubectl, client-go components and Fabric8 alike.
 */
public final class Kubeconfig {
  private Kubeconfig() {}

  public static Path writeWithCertificate(
      Path file, String serverUrl, String caPem, String user, Pki.Issued cert) {
    return write(
        file,
        serverUrl,
        caPem,
        user,
        "    client-certificate-data: "
            + b64(cert.certPem())
            + "\n"
            + "    client-key-data: "
            + b64(cert.keyPem())
            + "\n");
  }

  public static Path writeWithToken(
      Path file, String serverUrl, String caPem, String user, String token) {
    return write(file, serverUrl, caPem, user, "    token: " + token + "\n");
  }

  private static Path write(
      Path file, String serverUrl, String caPem, String user, String credentials) {
    String yaml =
        """
                apiVersion: v1
                kind: Config
                clusters:
                - name: capgate-testkit
                  cluster:
                    server: %s
                    certificate-authority-data: %s
                users:
                - name: "%s"
                  user:
                %scontexts:
                - name: capgate-testkit
                  context:
                    cluster: capgate-testkit
                    user: "%s"
                current-context: capgate-testkit
                """
            .formatted(serverUrl, b64(caPem), user, credentials, user);
    Pki.write(file, yaml);
    return file;
  }

  static String b64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
  }
}
