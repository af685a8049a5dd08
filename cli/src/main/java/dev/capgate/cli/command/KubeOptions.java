package dev.capgate.cli.command;

import dev.capgate.cli.kube.Kube;
import io.fabric8.kubernetes.client.KubernetesClient;
import picocli.CommandLine.Option;

/** kubectl's connection flags, which kubectl does not pass on to a plugin: read them ourselves. */
public final class KubeOptions {
  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NAMESPACE",
      description = "Namespace (default: the context's, else default).")
  String namespace;

  @Option(
      names = "--context",
      paramLabel = "CONTEXT",
      description = "kubeconfig context (default: the current context).")
  String context;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
  String kubeconfig;

  KubernetesClient connect() {
    return Kube.connect(context, kubeconfig);
  }

  String namespace(KubernetesClient client) {
    return Kube.namespace(client, namespace);
  }
}
