package dev.capgate.sidecar.stack;

import dev.capgate.testkit.KubeControlPlane;
import java.nio.file.Path;

/** The committed AgentSession CRD, applied once per JVM to the shared API server. */
public final class AgentSessionCrd {
  private static final Path FILE = Path.of("../crds/agentsessions.capgate.dev-v1.yml");
  private static boolean installed;

  private AgentSessionCrd() {}

  public static synchronized void install(KubeControlPlane kube) {
    if (!installed) {
      kube.applyCrd(FILE);
      installed = true;
    }
  }
}
