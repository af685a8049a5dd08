package dev.capgate.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The inbound ports a pod declares, and what the webhook passes to capgate-init and the sidecar.
 */
class InboundPortsTest {
  private static final String PROBED =
      """
      apiVersion: v1
      kind: Pod
      metadata:
        name: server
        annotations: {capgate.dev/inbound-ports: " 9090 ,8080"}
      spec:
        hostAliases:
        - ip: 10.1.2.3
          hostnames: [registry.internal, mirror.internal]
        initContainers:
        - name: helper
          image: registry.example/helper:1
          restartPolicy: Always
          startupProbe: {tcpSocket: {port: 7000}}
        containers:
        - name: agent
          image: registry.example/agent:1
          ports: [{name: http, containerPort: 8081}, {name: admin, containerPort: 8082}]
          livenessProbe: {httpGet: {path: /live, port: http}}
          readinessProbe: {grpc: {port: 9500}}
          startupProbe: {exec: {command: [true]}}
          lifecycle: {preStop: {httpGet: {path: /stop, port: 8083}}}
        - name: other
          image: registry.example/other:1
          readinessProbe: {tcpSocket: {port: "8084"}}
      """;

  @Test
  void annotation_and_agent_probe_ports_are_opened_and_nothing_else() {
    Pod pod = InjectionFixtures.pod(PROBED);
    assertThat(InboundPorts.violations(pod, SidecarPorts.DEFAULTS)).isEmpty();
    assertThat(InboundPorts.of(pod, SidecarPorts.DEFAULTS))
        .containsExactly(7000, 8080, 8081, 8083, 8084, 9090, 9500);
  }

  @Test
  void a_pod_without_annotation_or_probes_opens_nothing() {
    Pod pod = InjectionFixtures.pod(InjectionFixtures.resource("/golden/pod.yaml"));
    assertThat(InboundPorts.violations(pod, SidecarPorts.DEFAULTS)).isEmpty();
    assertThat(InboundPorts.of(pod, SidecarPorts.DEFAULTS)).isEmpty();
  }

  @Test
  void a_bad_annotation_is_refused_naming_every_bad_entry() {
    for (String bad : List.of("http", "8080;9090", "0", "65536", "8080,", "-1", "8080 9090")) {
      Pod pod = InjectionFixtures.pod(PROBED.replace("\" 9090 ,8080\"", "\"" + bad + "\""));
      assertThat(InboundPorts.violations(pod, SidecarPorts.DEFAULTS))
          .as(bad)
          .singleElement()
          .asString()
          .contains(
              "annotation capgate.dev/inbound-ports must be comma-separated TCP port numbers 1-65535",
              bad);
    }
    Pod pod = InjectionFixtures.pod(PROBED.replace("\" 9090 ,8080\"", "\"80,http,70000\""));
    assertThat(InboundPorts.violations(pod, SidecarPorts.DEFAULTS).getFirst())
        .contains("'http', '70000'")
        .doesNotContain("'80'");
  }

  @Test
  void the_sidecars_own_ports_are_never_opened() {
    Pod pod =
        InjectionFixtures.pod(
            PROBED
                .replace("\" 9090 ,8080\"", "\"8080,14001\"")
                .replace("grpc: {port: 9500}", "grpc: {port: 14053}"));
    assertThat(InboundPorts.violations(pod, SidecarPorts.DEFAULTS))
        .singleElement()
        .asString()
        .contains("may not open port 14001");
    assertThat(InboundPorts.of(pod, SidecarPorts.DEFAULTS))
        .doesNotContain(14001, 14053)
        .contains(8080);
  }

  @Test
  void the_sidecars_own_ports_are_the_operators_not_the_defaults() {
    SidecarPorts moved = new SidecarPorts(4242, 20001, 20053, 20021);
    Pod pod = InjectionFixtures.pod(PROBED.replace("\" 9090 ,8080\"", "\"14001,20001\""));
    assertThat(InboundPorts.violations(pod, moved))
        .singleElement()
        .asString()
        .contains("may not open port 20001", "20001 transparent listener, 20053 DNS");
    // The default proxy port is an ordinary port when the sidecar listens elsewhere.
    assertThat(InboundPorts.of(pod, moved)).contains(14001).doesNotContain(20001);
  }

  @Test
  void the_webhook_passes_the_ports_to_init_and_the_host_aliases_to_the_sidecar() {
    Pod injected =
        new PodInjector(InjectionFixtures.SETTINGS, InjectionFixtures.TRUST_ROOTS)
            .inject(InjectionFixtures.pod(PROBED), InjectionFixtures.PLAN);
    Container init = injected.getSpec().getInitContainers().get(0);
    assertThat(init.getName()).isEqualTo(SidecarContract.INIT_CONTAINER);
    assertThat(init.getArgs())
        .containsExactly("init", "--inbound-ports", "7000,8080,8081,8083,8084,9090,9500");
    Container proxy = injected.getSpec().getInitContainers().get(1);
    String aliases =
        proxy.getEnv().stream()
            .filter(e -> e.getName().equals(SidecarContract.ENV_HOST_ALIASES))
            .map(EnvVar::getValue)
            .findFirst()
            .orElseThrow();
    assertThat(new io.vertx.core.json.JsonArray(aliases).encode())
        .isEqualTo(
            "[{\"hostnames\":[\"registry.internal\",\"mirror.internal\"],\"ip\":\"10.1.2.3\"}]");
    // Agent containers get neither.
    for (Container agent : PodInjector.agentContainers(injected.getSpec())) {
      assertThat(agent.getEnv())
          .extracting(EnvVar::getName)
          .doesNotContain(SidecarContract.ENV_HOST_ALIASES);
    }
    // Injecting the injected pod changes nothing.
    assertThat(
            InjectionFixtures.yaml(
                new PodInjector(InjectionFixtures.SETTINGS, InjectionFixtures.TRUST_ROOTS)
                    .inject(injected, null)))
        .isEqualTo(InjectionFixtures.yaml(injected));
  }

  @Test
  void without_ports_or_aliases_the_containers_are_as_before() {
    Pod injected =
        new PodInjector(InjectionFixtures.SETTINGS, InjectionFixtures.TRUST_ROOTS)
            .inject(
                InjectionFixtures.pod(InjectionFixtures.resource("/golden/pod.yaml")),
                InjectionFixtures.PLAN);
    assertThat(injected.getSpec().getInitContainers().get(0).getArgs()).containsExactly("init");
    assertThat(injected.getSpec().getInitContainers().get(1).getEnv())
        .extracting(EnvVar::getName)
        .doesNotContain(SidecarContract.ENV_HOST_ALIASES);
  }
}
