package dev.capgate.operator;

import dev.capgate.common.logging.JsonLogs;
import dev.capgate.common.logging.LogLevels;
import dev.capgate.operator.config.OperatorConfig;
import dev.capgate.operator.lifecycle.InstallationCleanup;
import dev.capgate.operator.lifecycle.SessionDrain;
import dev.capgate.operator.lifecycle.UninstallSettings;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.util.concurrent.CountDownLatch;
import org.slf4j.MDC;

/** Runs the operator with settings from the environment (see {@link OperatorConfig#fromEnv}). */
public final class Main {
  /**
   * The chart's uninstall hooks run this image with one of these (charts/capgate/README.md,
   * "Uninstall"): no second image to build, ship and keep in step with the API.
   */
  static final java.util.Set<String> UNINSTALL_MODES =
      java.util.Set.of("drain-sessions", "clean-up");

  private Main() {}

  private static int uninstall(String mode) {
    UninstallSettings settings = UninstallSettings.fromEnv(System.getenv());
    try (KubernetesClient client =
        new KubernetesClientBuilder().withHttpClientFactory(new JdkHttpClientFactory()).build()) {
      return "drain-sessions".equals(mode)
          ? new SessionDrain(client, settings).run()
          : new InstallationCleanup(client, settings).run();
    }
  }

  public static void main(String[] args) throws InterruptedException {
    if (args.length == 1 && AotTraining.ARG.equals(args[0])) {
      // The image build's AOT training run (operator/Dockerfile): no API server, no environment.
      System.exit(AotTraining.run());
    }
    // The one log schema of both deployables; MDC fields (session, namespace, admission uid) ride
    // along.
    JsonLogs.install(
        "operator",
        LogLevels.parse(System.getenv().getOrDefault(JsonLogs.LEVEL_ENV, "INFO")),
        MDC::getCopyOfContextMap);
    if (args.length == 1 && UNINSTALL_MODES.contains(args[0])) {
      System.exit(uninstall(args[0]));
    }
    OperatorConfig config = OperatorConfig.fromEnv(System.getenv());
    // In-cluster service account or KUBECONFIG, as Fabric8 finds them; the JDK HTTP client (see
    // pom).
    KubernetesClient client =
        new KubernetesClientBuilder().withHttpClientFactory(new JdkHttpClientFactory()).build();
    CapgateOperator operator = CapgateOperator.start(client, config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  operator.close();
                  client.close();
                  stopped.countDown();
                },
                "capgate-shutdown"));
    stopped.await();
  }
}
