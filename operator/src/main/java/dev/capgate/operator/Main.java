package dev.capgate.operator;

import dev.capgate.common.logging.JsonLogs;
import dev.capgate.common.logging.LogLevels;
import dev.capgate.operator.config.OperatorCommandLine;
import dev.capgate.operator.config.OperatorConfig;
import dev.capgate.operator.lifecycle.InstallationCleanup;
import dev.capgate.operator.lifecycle.SessionDrain;
import dev.capgate.operator.lifecycle.UninstallSettings;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs the operator with settings from the environment (see {@link OperatorConfig#fromEnv}), each
 * also a flag ({@link OperatorCommandLine}: {@code --help}; exit 64 for a bad command line).
 */
public final class Main {
  /**
   * The chart's uninstall hooks run this image with one of these (charts/capgate/README.md,
   * "Uninstall"): no second image to build, ship and keep in step with the API.
   */
  static final Set<String> UNINSTALL_MODES = Set.of("drain-sessions", "clean-up");

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
    // The one log schema of both deployables; MDC fields (session, namespace, admission uid) ride
    // along. The level is set again below once the flags are known.
    JsonLogs.install("operator", LogLevels.parse("INFO"), MDC::getCopyOfContextMap);
    if (args.length == 1 && UNINSTALL_MODES.contains(args[0])) {
      // The chart's uninstall hooks: settings from their Job's environment only.
      JsonLogs.setLevel(LogLevels.parse(System.getenv().getOrDefault(JsonLogs.LEVEL_ENV, "INFO")));
      System.exit(uninstall(args[0]));
    }
    Map<String, String> env;
    switch (OperatorCommandLine.parse(args, System.getenv())) {
      case OperatorCommandLine.Train train ->
          // The image build's AOT training run (operator/Dockerfile): no API server, no
          // environment.
          System.exit(AotTraining.run());
      case OperatorCommandLine.Exit exit when exit.code() == 0 -> {
        System.out.print(exit.text());
        System.out.flush();
        System.exit(0);
      }
      case OperatorCommandLine.Exit exit -> {
        LoggerFactory.getLogger(Main.class).error("bad arguments: {}", exit.text());
        System.exit(exit.code());
      }
      case OperatorCommandLine.Run run -> {
        env = run.env();
        start(env);
      }
    }
  }

  private static void start(Map<String, String> env) throws InterruptedException {
    OperatorConfig config;
    Duration drain;
    try {
      JsonLogs.setLevel(LogLevels.parse(env.getOrDefault(JsonLogs.LEVEL_ENV, "INFO")));
      config = OperatorConfig.fromEnv(env);
      drain = GracefulStop.drainFrom(env);
    } catch (IllegalArgumentException e) {
      LoggerFactory.getLogger(Main.class).error("bad settings: {}", e.getMessage());
      System.exit(OperatorCommandLine.USAGE);
      return;
    }
    // In-cluster service account or KUBECONFIG, as Fabric8 finds them; the JDK HTTP client (see
    // pom).
    KubernetesClient client =
        new KubernetesClientBuilder().withHttpClientFactory(new JdkHttpClientFactory()).build();
    CapgateOperator operator = CapgateOperator.start(client, config);
    CountDownLatch stopped = new CountDownLatch(1);
    new GracefulStop(
            operator::drain,
            () -> {
              operator.close();
              client.close();
              stopped.countDown();
            },
            drain)
        .install();
    stopped.await();
  }
}
