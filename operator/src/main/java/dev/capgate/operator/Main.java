package dev.capgate.operator;

import dev.capgate.common.logging.JsonLogs;
import dev.capgate.common.logging.LogLevels;
import dev.capgate.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.util.concurrent.CountDownLatch;
import org.slf4j.MDC;

/** Runs the operator with settings from the environment (see {@link OperatorConfig#fromEnv}). */
public final class Main {
  private Main() {}

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
