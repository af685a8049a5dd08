package dev.capgate.cli.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;

/**
 * The API connection, configured as kubectl would be: {@code KUBECONFIG} (or {@code
 * ~/.kube/config}), the current or the given context, in-cluster when there is no kubeconfig.
 * kubectl passes a plugin neither its flags nor its configuration, so the plugin reads the same
 * files itself (Fabric8's {@code Config.autoConfigure}) and takes {@code --context} and {@code -n}
 * like kubectl.
 */
public final class Kube {
  private Kube() {}

  /**
   * @param context a kubeconfig context, or null for the current one
   * @param kubeconfig a kubeconfig file, or null for {@code KUBECONFIG} / {@code ~/.kube/config}
   */
  public static KubernetesClient connect(String context, String kubeconfig) {
    if (kubeconfig != null) {
      // Fabric8 reads the kubeconfig location from this property (as kubectl's --kubeconfig).
      System.setProperty(Config.KUBERNETES_KUBECONFIG_FILE, kubeconfig);
    }
    Config config = Config.autoConfigure(context);
    // Fabric8 falls back to the current context when the named one does not exist; kubectl
    // refuses, and so does the plugin (a command must not run against another cluster).
    if (context != null
        && (config.getContexts() == null
            || config.getContexts().stream().noneMatch(c -> context.equals(c.getName())))) {
      throw new IllegalArgumentException(
          "context \"" + context + "\" does not exist in the kubeconfig");
    }
    ClientKeyAlgorithm.apply(config);
    // One retry, not Fabric8's ten with back-off: a person is waiting for the answer.
    config.setRequestRetryBackoffLimit(1);
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(new JdkHttpClientFactory())
        .build();
  }

  /** The namespace: the flag, else the context's, else {@code default} (kubectl's rule). */
  public static String namespace(KubernetesClient client, String flag) {
    if (flag != null && !flag.isBlank()) {
      return flag;
    }
    String ns = client.getConfiguration().getNamespace();
    return ns == null || ns.isBlank() ? "default" : ns;
  }
}
