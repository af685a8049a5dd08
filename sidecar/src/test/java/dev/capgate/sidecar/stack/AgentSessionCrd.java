package dev.capgate.sidecar.stack;

import dev.capgate.testkit.KubeControlPlane;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The committed AgentSession CRD, applied once per JVM to the shared API server. */
public final class AgentSessionCrd {
  private static final Path FILE = Path.of("../crds/agentsessions.capgate.dev-v1.yml");
  private static boolean installed;

  private AgentSessionCrd() {}

  public static synchronized void install(KubeControlPlane kube) {
    if (installed) {
      return;
    }
    CustomResourceDefinition crd;
    try {
      crd = Serialization.unmarshal(Files.readString(FILE), CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    kube.client().resource(crd).serverSideApply();
    kube.client()
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName(crd.getMetadata().getName())
        .waitUntilCondition(
            c ->
                c != null
                    && c.getStatus() != null
                    && c.getStatus().getConditions().stream()
                        .anyMatch(
                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
            30,
            TimeUnit.SECONDS);
    installed = true;
  }
}
