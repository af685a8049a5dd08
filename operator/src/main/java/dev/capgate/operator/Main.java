package dev.capgate.operator;

import dev.capgate.common.logging.JsonLogs;
import dev.capgate.common.logging.LogLevels;
import dev.capgate.operator.config.OperatorCommandLine;
import dev.capgate.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs the operator with settings from the environment (see {@link OperatorConfig#fromEnv}), each
 * also a flag ({@link OperatorCommandLine}: {@code --help}; exit 64 for a bad command line).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    // The one log schema of both deployables; MDC fields (session, namespace, admission uid) ride
    // along. The level is set again below once the flags are known.
    JsonLogs.install("operator", LogLevels.parse("INFO"), MDC::getCopyOfContextMap);
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
    try {
      JsonLogs.setLevel(LogLevels.parse(env.getOrDefault(JsonLogs.LEVEL_ENV, "INFO")));
      config = OperatorConfig.fromEnv(env);
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
