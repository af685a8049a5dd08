package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.OnRevoke;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.operator.CapgateOperator;
import dev.capgate.operator.config.OperatorConfig;
import dev.capgate.operator.naming.SessionNames;
import dev.capgate.operator.webhook.DelegationPolicy;
import dev.capgate.operator.webhook.UnservedNamespacePolicy;
import dev.capgate.operator.webhook.WebhookRegistration;
import dev.capgate.testkit.ProcessResult;
import dev.capgate.testkit.Tools;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Helm chart: lint, render, apply to the real API server (all but the Deployment, which needs a
 * node), then check that what it grants is what the operator needs and no more — by {@code kubectl
 * auth can-i} for every verb, and by running the operator itself with the chart's ServiceAccount
 * token and the Deployment's environment and watching for a single 403.
 */
class HelmChartIT {
  static final Path CHART = Path.of("../charts/capgate");
  static final String VAULT = "https://vault.vault.svc:8200";

  static OperatorUnderTest stack;
  static KubernetesClient admin;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    admin = stack.client;
  }

  @Test
  void lintPassesAndTheSchemaRejectsBadValues() {
    helm("lint", "--strict", CHART.toString(), "--set", "vault.address=" + VAULT).orThrow();
    helm(
            "lint",
            "--strict",
            CHART.toString(),
            "--set",
            "vault.address=" + VAULT,
            "--set",
            "replicaCount=3",
            "--set",
            "webhook.manageConfiguration=true",
            "--set",
            "watchNamespaces={agents,ci}",
            "--set",
            "vault.operatorToken.secretName=capgate-vault",
            "--set",
            "vault.caCert.configMap=vault-ca")
        .orThrow();

    helm(
            "lint",
            "--strict",
            CHART.toString(),
            "--set",
            "vault.address=" + VAULT,
            "--set",
            "webhook.certManager.enabled=true",
            "--set",
            "webhook.certManager.issuerRef.name=webhook-ca",
            "--set",
            "webhook.certManager.duration=2160h")
        .orThrow();

    ProcessResult missing = helm("lint", "--strict", CHART.toString());
    assertThat(missing.exitCode()).isNotZero();
    assertThat(missing.stdout() + missing.stderr()).contains("/vault/address");
    assertThat(template("capgate", "capgate-system", "--set", "vault.address=vault:8200").stderr())
        .contains("/vault/address");
    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set",
                    "logLevel=LOUD")
                .stderr())
        .contains("/logLevel");
    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set",
                    "image.pullPolicy=Sometimes")
                .stderr())
        .contains("/image/pullPolicy");
    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set",
                    "replicaCount=0")
                .stderr())
        .contains("/replicaCount");
  }

  /** NOTES.txt renders (an error there fails `helm install`) and says what to do next. */
  @Test
  void theNotesShowTheNextCommands() {
    // Not "capgate": this cluster's shared operator owns a configuration of that name already (and
    // even a client-side dry run refuses to adopt it).
    ProcessResult install =
        helm(
            "install",
            "capgate-notes",
            CHART.toString(),
            "--namespace",
            "capgate-notes",
            "--dry-run=client",
            "--kubeconfig",
            stack.kube.kubeconfig().toString(),
            "--set",
            "vault.address=" + VAULT);
    assertThat(install.exitCode()).as(install.stderr()).isZero();
    String notes = install.stdout().substring(install.stdout().indexOf("NOTES:"));
    assertThat(notes)
        .contains("kubectl -n capgate-notes rollout status deployment/capgate-notes-operator")
        .contains("kind: AgentSession")
        .contains("secret/data/github/{{user}}")
        .contains("capgate.dev/inject: \"true\"")
        .contains("capgate.dev/session: fix-issue-42")
        .contains("kubectl get agentsessions -n agents")
        .contains("needs the verb delegate")
        .contains("ClusterRole\n   capgate-notes-session-delegator")
        .contains("vault.operatorToken.secretName")
        .contains("vault policy write capgate-operator")
        .contains("path \"auth/token/lookup-accessor\"")
        .contains("capgate-jwt")
        .contains("pod-security.kubernetes.io/enforce=privileged")
        .doesNotContain("bound_service_account_names");
  }

  /**
   * {@code sidecar.proxyUid} and {@code sidecar.ports} (issue 14, docs/meshes.md): rendered as the
   * operator's {@code CAPGATE_SIDECAR_*} variables, read by {@link OperatorConfig} into the uid and
   * ports every injected pod gets; out of range, 0 or overlapping values fail the install with the
   * value's name.
   */
  @Test
  void theSidecarUidAndPortsReachTheOperator() {
    Deployment deployment =
        rendered(
            Deployment.class,
            "--set",
            "sidecar.proxyUid=4242",
            "--set",
            "sidecar.ports.proxy=20001",
            "--set",
            "sidecar.ports.dns=20053",
            "--set",
            "sidecar.ports.admin=20021",
            "--set",
            "sidecar.exemptUids={1337,2102}");
    Map<String, String> env = operatorEnv(deployment);
    assertThat(env)
        .containsEntry("CAPGATE_SIDECAR_PROXY_UID", "4242")
        .containsEntry("CAPGATE_SIDECAR_PROXY_PORT", "20001")
        .containsEntry("CAPGATE_SIDECAR_DNS_PORT", "20053")
        .containsEntry("CAPGATE_SIDECAR_ADMIN_PORT", "20021")
        .containsEntry("CAPGATE_SIDECAR_ADMIN_EXPOSE_METRICS", "false");
    assertThat(env).containsEntry("CAPGATE_SIDECAR_EXEMPT_UIDS", "1337,2102");
    assertThat(OperatorConfig.fromEnv(env).sidecar().ports())
        .isEqualTo(
            new dev.capgate.api.sidecar.SidecarPorts(
                4242, 20001, 20053, 20021, new java.util.TreeSet<>(List.of(1337, 2102))));
    assertThat(OperatorConfig.fromEnv(env).sidecar().adminExposeMetrics()).isFalse();
    // sidecar.adminExposeMetrics (part of the same story: Prometheus scraping agent pods).
    Deployment exposing = rendered(Deployment.class, "--set", "sidecar.adminExposeMetrics=true");
    Map<String, String> exposingEnv = operatorEnv(exposing);
    assertThat(OperatorConfig.fromEnv(exposingEnv).sidecar().adminExposeMetrics()).isTrue();
    // logLevel for both deployables; sidecar.logLevel for the sidecars alone.
    assertThat(operatorEnv(rendered(Deployment.class, "--set", "logLevel=DEBUG")))
        .containsEntry("CAPGATE_LOG_LEVEL", "DEBUG")
        .containsEntry("CAPGATE_SIDECAR_LOG_LEVEL", "DEBUG");
    Map<String, String> sidecarOnly =
        operatorEnv(rendered(Deployment.class, "--set", "sidecar.logLevel=TRACE"));
    assertThat(sidecarOnly)
        .containsEntry("CAPGATE_LOG_LEVEL", "INFO")
        .containsEntry("CAPGATE_SIDECAR_LOG_LEVEL", "TRACE");
    assertThat(OperatorConfig.fromEnv(sidecarOnly).sidecar().logLevel()).isEqualTo("TRACE");

    Deployment defaults = rendered(Deployment.class);
    Map<String, String> defaultEnv = operatorEnv(defaults);
    assertThat(OperatorConfig.fromEnv(defaultEnv).sidecar().ports())
        .isEqualTo(dev.capgate.api.sidecar.SidecarPorts.DEFAULTS);

    Map<String, String> bad =
        Map.of(
            "sidecar.proxyUid=0", "/sidecar/proxyUid",
            "sidecar.ports.proxy=0", "/sidecar/ports/proxy",
            "sidecar.ports.dns=70000", "/sidecar/ports/dns",
            "sidecar.adminExposeMetrics=maybe", "/sidecar/adminExposeMetrics",
            "sidecar.exemptUids={1447}", "sidecar.exemptUids may not hold sidecar.proxyUid (1447)",
            "sidecar.ports.admin=14001",
                "sidecar.ports must be three different ports, got proxy 14001, dns 14053, admin"
                    + " 14001");
    bad.forEach(
        (value, message) ->
            assertThat(
                    template(
                            "capgate",
                            "capgate-system",
                            "--set",
                            "vault.address=" + VAULT,
                            "--set",
                            value)
                        .stderr())
                .as(value)
                .contains(message));
  }

  /**
   * {@code vault.caCert} (issue 14): the ConfigMap is mounted into the operator, the file named by
   * {@code CAPGATE_VAULT_CACERT}; the operator reads it with the Deployment's environment and hands
   * the PEM to every injected sidecar. Without the value neither the mount nor the variable exist.
   */
  @Test
  void theVaultCaValueReachesTheOperatorAndItsSidecars(@TempDir Path kubeletDir) throws Exception {
    Deployment deployment =
        rendered(
            Deployment.class,
            "--set",
            "vault.caCert.configMap=vault-ca",
            "--set",
            "vault.caCert.key=bundle.pem");
    var pod = deployment.getSpec().getTemplate().getSpec();
    var container = pod.getContainers().getFirst();
    Map<String, String> env = new HashMap<>();
    container.getEnv().stream()
        .filter(v -> v.getValue() != null)
        .forEach(v -> env.put(v.getName(), v.getValue()));
    assertThat(env).containsEntry("CAPGATE_VAULT_CACERT", "/etc/capgate/vault-ca/bundle.pem");
    var volume =
        pod.getVolumes().stream()
            .filter(v -> v.getName().equals("vault-ca"))
            .findFirst()
            .orElseThrow();
    assertThat(volume.getConfigMap().getName()).isEqualTo("vault-ca");
    assertThat(volume.getConfigMap().getItems())
        .extracting(i -> i.getKey(), i -> i.getPath())
        .containsExactly(tuple("bundle.pem", "bundle.pem"));
    assertThat(container.getVolumeMounts())
        .extracting(m -> m.getName(), m -> m.getMountPath(), m -> m.getReadOnly())
        .contains(tuple("vault-ca", "/etc/capgate/vault-ca", true));

    // What the kubelet would mount, at a path of this machine: the operator reads it at start.
    String pem = new dev.capgate.testkit.Pki("vault-private-ca").caCertPem();
    Path file = Files.writeString(kubeletDir.resolve("bundle.pem"), pem);
    env.put("CAPGATE_VAULT_CACERT", file.toString());
    OperatorConfig config = OperatorConfig.fromEnv(env);
    assertThat(config.vaultCaCertFile()).isEqualTo(file);
    assertThat(config.sidecar().vaultCaPem()).isEqualToIgnoringWhitespace(pem);

    Deployment without = rendered(Deployment.class);
    assertThat(without.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv())
        .extracting(EnvVar::getName)
        .doesNotContain("CAPGATE_VAULT_CACERT");
    assertThat(without.getSpec().getTemplate().getSpec().getVolumes())
        .extracting(v -> v.getName())
        .doesNotContain("vault-ca");
  }

  @Test
  void oneReplicaHasNoDisruptionBudgetAndTheOperatorManagedModeRendersNoWebhookConfiguration() {
    List<HasMetadata> single =
        parse(
            template("capgate", "capgate-system", "--set", "vault.address=" + VAULT)
                .orThrow()
                .stdout());
    assertThat(single)
        .extracting(HasMetadata::getKind)
        .doesNotContain("PodDisruptionBudget")
        .contains(
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding");

    String managed =
        template(
                "capgate",
                "capgate-system",
                "--set",
                "vault.address=" + VAULT,
                "--set",
                "webhook.manageConfiguration=true")
            .orThrow()
            .stdout();
    assertThat(parse(managed))
        .extracting(HasMetadata::getKind)
        .doesNotContain(
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding");
    assertThat(managed)
        .contains("validatingadmissionpolicies")
        .contains("name: CAPGATE_WEBHOOK_MANAGE_CONFIGURATION\n              value: \"true\"")
        .contains("resourceNames: [capgate-inject-label-required, " + DelegationPolicy.NAME + "]");
  }

  /**
   * The webhook's port admits what the admin lists, by default every address outside the pod CIDRs
   * (API servers are not pods). Enforcement is the CNI's; this cluster has none, so what is checked
   * is the policy itself (and, below, that the API server accepts it).
   */
  @Test
  void theNetworkPolicyAdmitsTheWebhookPortFromOutsideThePodNetworkOnly() {
    List<HasMetadata> defaults =
        parse(
            template("capgate", "capgate-system", "--set", "vault.address=" + VAULT)
                .orThrow()
                .stdout());
    NetworkPolicy policy = (NetworkPolicy) kind(defaults, "NetworkPolicy");
    Deployment deployment = (Deployment) kind(defaults, "Deployment");
    assertThat(policy.getMetadata().getNamespace()).isEqualTo("capgate-system");
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(policy.getSpec().getIngress()).hasSize(3);
    NetworkPolicyIngressRule rule = policy.getSpec().getIngress().getFirst();
    assertThat(rule.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getPort().getStrVal()).isEqualTo("webhook");
              assertThat(p.getProtocol()).isEqualTo("TCP");
            });
    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers().getFirst().getPorts())
        .extracting(
            io.fabric8.kubernetes.api.model.ContainerPort::getName,
            io.fabric8.kubernetes.api.model.ContainerPort::getContainerPort)
        .containsExactly(tuple("webhook", 9443), tuple("identity", 9444), tuple("metrics", 8080));
    assertThat(rule.getFrom())
        .extracting(peer -> peer.getIpBlock().getCidr())
        .containsExactly("0.0.0.0/0", "::/0");
    assertThat(rule.getFrom())
        .allSatisfy(peer -> assertThat(peer.getIpBlock().getExcept()).isNullOrEmpty());
    assertIdentityPortIsOpenToAll(policy);
    // The Service: the API server on 443, sidecars on 8443 (the operator's default for it).
    io.fabric8.kubernetes.api.model.Service service =
        (io.fabric8.kubernetes.api.model.Service) kind(defaults, "Service");
    assertThat(service.getSpec().getPorts())
        .extracting(p -> p.getName(), p -> p.getPort(), p -> p.getTargetPort().getStrVal())
        .containsExactly(
            tuple("https", 443, "webhook"),
            tuple("identity", 8443, "identity"),
            tuple("metrics", 8080, "metrics"));
    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(
            tuple("CAPGATE_IDENTITY_PORT", "9444"), tuple("CAPGATE_IDENTITY_SERVICE_PORT", "8443"));

    // With the pod CIDRs: pods are kept off the webhook port, and still reach the identity port.
    NetworkPolicy withPods =
        rendered(
            NetworkPolicy.class,
            "--set-json",
            "networkPolicy.podCIDRs=[\"10.244.0.0/16\",\"fd00:10:244::/56\",\"10.245.0.0/16\"]");
    assertThat(withPods.getSpec().getIngress()).hasSize(3);
    assertThat(withPods.getSpec().getIngress().getFirst().getPorts())
        .extracting(p -> p.getPort().getStrVal())
        .containsExactly("webhook");
    List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer> from =
        withPods.getSpec().getIngress().getFirst().getFrom();
    assertThat(from.get(0).getIpBlock().getExcept())
        .containsExactly("10.244.0.0/16", "10.245.0.0/16");
    assertThat(from.get(1).getIpBlock().getExcept()).containsExactly("fd00:10:244::/56");
    assertIdentityPortIsOpenToAll(withPods);

    NetworkPolicy listed =
        rendered(
            NetworkPolicy.class,
            "--set-json",
            "networkPolicy.webhookFrom=[{\"ipBlock\":{\"cidr\":\"172.18.0.2/32\"}},"
                + "{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}},"
                + "\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"konnectivity-agent\"}}}]");
    from = listed.getSpec().getIngress().getFirst().getFrom();
    assertThat(from).hasSize(2);
    assertIdentityPortIsOpenToAll(listed);
    assertThat(from.get(0).getIpBlock().getCidr()).isEqualTo("172.18.0.2/32");
    assertThat(from.get(1).getPodSelector().getMatchLabels())
        .containsEntry("k8s-app", "konnectivity-agent");

    assertThat(
            parse(
                template(
                        "capgate",
                        "capgate-system",
                        "--set",
                        "vault.address=" + VAULT,
                        "--set",
                        "networkPolicy.enabled=false")
                    .orThrow()
                    .stdout()))
        .extracting(HasMetadata::getKind)
        .doesNotContain("NetworkPolicy");
    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set-json",
                    "networkPolicy.podCIDRs=[\"10.244.0.0\"]")
                .stderr())
        .contains("/networkPolicy/podCIDRs/0");
    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set-json",
                    "networkPolicy.webhookFrom=[{\"ports\":[443]}]")
                .stderr())
        .contains("/networkPolicy/webhookFrom/0");
    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set",
                    "identity.port=9443")
                .stderr())
        .contains("identity.port must differ from webhook.port");
  }

  /**
   * Prometheus (docs/metrics.md): the operator's metrics port in the Deployment, the Service and
   * its own NetworkPolicy rule; the ServiceMonitor, PodMonitor, PrometheusRule and dashboard
   * ConfigMap only when enabled, each pointing at what exists (the Service's port and labels, the
   * sidecars' admin port, the rule file and dashboard verbatim). The Prometheus Operator's CRDs are
   * not in this API server: the monitoring objects are checked as rendered; the ConfigMap is
   * dry-run on the server.
   */
  @Test
  void theMonitoringObjectsRenderOnlyWhenEnabled() throws Exception {
    List<HasMetadata> defaults =
        parse(
            template("capgate", "capgate-system", "--set", "vault.address=" + VAULT)
                .orThrow()
                .stdout());
    assertThat(defaults)
        .extracting(HasMetadata::getKind)
        .doesNotContain("ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap");
    NetworkPolicyIngressRule metricsRule =
        ((NetworkPolicy) kind(defaults, "NetworkPolicy")).getSpec().getIngress().get(2);
    assertThat(metricsRule.getPorts())
        .extracting(p -> p.getPort().getStrVal())
        .containsExactly("metrics");
    assertThat(metricsRule.getFrom()).isNullOrEmpty();
    assertThat(operatorEnv((Deployment) kind(defaults, "Deployment")))
        .containsEntry("CAPGATE_METRICS_PORT", "8080");

    List<HasMetadata> enabled =
        parse(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set",
                    "metrics.port=9090",
                    "--set",
                    "metrics.serviceMonitor.enabled=true",
                    "--set",
                    "metrics.serviceMonitor.labels.release=prom",
                    "--set",
                    "metrics.podMonitor.enabled=true",
                    "--set",
                    "sidecar.adminExposeMetrics=true",
                    "--set",
                    "metrics.prometheusRule.enabled=true",
                    "--set",
                    "metrics.dashboard.enabled=true",
                    "--set-json",
                    "networkPolicy.metricsFrom=[{\"namespaceSelector\":{\"matchLabels\":"
                        + "{\"kubernetes.io/metadata.name\":\"monitoring\"}}}]")
                .orThrow()
                .stdout());
    io.fabric8.kubernetes.api.model.Service service =
        (io.fabric8.kubernetes.api.model.Service) kind(enabled, "Service");
    assertThat(service.getSpec().getPorts())
        .filteredOn(p -> "metrics".equals(p.getName()))
        .singleElement()
        .satisfies(p -> assertThat(p.getPort()).isEqualTo(9090));
    assertThat(operatorEnv((Deployment) kind(enabled, "Deployment")))
        .containsEntry("CAPGATE_METRICS_PORT", "9090");
    assertThat(
            ((NetworkPolicy) kind(enabled, "NetworkPolicy"))
                .getSpec()
                .getIngress()
                .get(2)
                .getFrom()
                .getFirst()
                .getNamespaceSelector()
                .getMatchLabels())
        .containsEntry("kubernetes.io/metadata.name", "monitoring");

    var json = OperatorUnderTest.SERIALIZATION;
    com.fasterxml.jackson.databind.JsonNode serviceMonitor =
        json.convertValue(
            kind(enabled, "ServiceMonitor"), com.fasterxml.jackson.databind.JsonNode.class);
    assertThat(serviceMonitor.path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
    assertThat(serviceMonitor.at("/metadata/labels/release").asText()).isEqualTo("prom");
    assertThat(serviceMonitor.at("/spec/endpoints/0/port").asText()).isEqualTo("metrics");
    assertThat(serviceMonitor.at("/spec/endpoints/0/path").asText()).isEqualTo("/metrics");
    Map<String, String> selector = new HashMap<>();
    serviceMonitor
        .at("/spec/selector/matchLabels")
        .properties()
        .forEach(e -> selector.put(e.getKey(), e.getValue().asText()));
    assertThat(selector).isNotEmpty();
    assertThat(service.getMetadata().getLabels()).containsAllEntriesOf(selector);
    assertThat(serviceMonitor.at("/spec/namespaceSelector/matchNames/0").asText())
        .isEqualTo("capgate-system");

    com.fasterxml.jackson.databind.JsonNode podMonitor =
        json.convertValue(
            kind(enabled, "PodMonitor"), com.fasterxml.jackson.databind.JsonNode.class);
    assertThat(podMonitor.at("/spec/selector/matchLabels/capgate.dev~1inject").asText())
        .isEqualTo("true");
    assertThat(podMonitor.at("/spec/podMetricsEndpoints/0/targetPort").asInt()).isEqualTo(14021);
    assertThat(podMonitor.at("/spec/podMetricsEndpoints/0/path").asText()).isEqualTo("/metrics");
    assertThat(podMonitor.at("/spec/namespaceSelector/any").asBoolean()).isTrue();

    com.fasterxml.jackson.databind.JsonNode rule =
        json.convertValue(
            kind(enabled, "PrometheusRule"), com.fasterxml.jackson.databind.JsonNode.class);
    com.fasterxml.jackson.databind.JsonNode file =
        json.unmarshal(
            Files.readString(CHART.resolve("files/prometheus-rules.yaml")),
            com.fasterxml.jackson.databind.JsonNode.class);
    assertThat(rule.at("/spec/groups")).isEqualTo(file.path("groups"));
    assertThat(rule.at("/spec/groups/0/rules").findValuesAsText("alert"))
        .containsExactlyInAnyOrder(
            "CapgateWebhookErrors",
            "CapgateVaultUnreachable",
            "CapgateRevocationsFailing",
            "CapgateDenialsSpike");

    io.fabric8.kubernetes.api.model.ConfigMap dashboard =
        (io.fabric8.kubernetes.api.model.ConfigMap) kind(enabled, "ConfigMap");
    assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    String dashboardJson = dashboard.getData().get("capgate.json");
    assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(dashboardJson))
        .isEqualTo(
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(Files.readString(CHART.resolve("files/grafana-dashboard.json"))));
    String configMapYaml =
        documents(
                template(
                        "capgate",
                        "capgate-system",
                        "--set",
                        "vault.address=" + VAULT,
                        "--set",
                        "metrics.dashboard.enabled=true",
                        "--show-only",
                        "templates/dashboard-configmap.yaml")
                    .orThrow()
                    .stdout())
            .getFirst()
            .replace("namespace: capgate-system", "namespace: default");
    ProcessResult dryRun =
        stack.kube.kubectlWithInput(configMapYaml, "apply", "--dry-run=server", "-f", "-");
    assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();

    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set",
                    "metrics.podMonitor.enabled=true")
                .stderr())
        .contains("metrics.podMonitor.enabled needs sidecar.adminExposeMetrics: true");
    assertThat(
            template(
                    "capgate",
                    "capgate-system",
                    "--set",
                    "vault.address=" + VAULT,
                    "--set",
                    "metrics.port=9444")
                .stderr())
        .contains("metrics.port must differ from webhook.port and identity.port");
  }

  /**
   * The second rule: the identity port (only /v1/vault-token, every caller attested by TokenReview)
   * from any source, pods included, whatever the webhook rule admits.
   */
  private static void assertIdentityPortIsOpenToAll(NetworkPolicy policy) {
    NetworkPolicyIngressRule identity = policy.getSpec().getIngress().get(1);
    assertThat(identity.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getPort().getStrVal()).isEqualTo("identity");
              assertThat(p.getProtocol()).isEqualTo("TCP");
            });
    assertThat(identity.getFrom()).isNullOrEmpty();
  }

  @Test
  void theRenderedChartIsAcceptedAndGrantsExactlyWhatTheOperatorUses() throws Exception {
    String namespace = stack.kube.newNamespace("capgate-helm");
    String release = "capgate-" + namespace.substring(namespace.lastIndexOf('-') + 1);
    String operatorName = release + "-operator";
    String serviceAccount = "system:serviceaccount:" + namespace + ":" + operatorName;
    // The namespace the chart's operator serves below (watchNamespaces: RBAC to label it, the
    // webhook's selector and the unserved-namespaces policy, live while this test runs).
    String agents = stack.kube.newNamespace("helm-agents");
    String rendered =
        template(
                release,
                namespace,
                "--set",
                "vault.address=" + VAULT,
                "--set",
                "watchNamespaces={" + agents + "}",
                "--set",
                "replicaCount=2",
                // What an install creates: the uninstall hooks are UninstallHooksIT's.
                "--no-hooks",
                // The webhook must reach no pod here: nothing serves it behind the Service in this
                // cluster.
                "--set-json",
                "webhook.namespaceSelector={\"matchLabels\":{\"capgate.dev/helm-it\":\"never\"}}")
            .orThrow()
            .stdout();

    List<String> documents = documents(rendered);
    String deploymentYaml =
        documents.stream().filter(d -> d.contains("\nkind: Deployment")).findFirst().orElseThrow();
    String everythingElse =
        String.join("\n---\n", documents.stream().filter(d -> d != deploymentYaml).toList());
    List<HasMetadata> objects = parse(rendered);
    assertThat(objects)
        .extracting(HasMetadata::getKind)
        .containsExactlyInAnyOrder(
            "PodDisruptionBudget",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Service",
            "Deployment",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            // Delegation (invariant 10): the session-delegation policy and the delegator
            // ClusterRole; the
            // webhook's NetworkPolicy.
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "ClusterRole",
            "NetworkPolicy",
            // The approvers' ClusterRole, bound to nobody.
            "ClusterRole",
            // watchNamespaces: the unserved-namespaces policy.
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding");

    try {
      // The API server takes all of it (the Deployment only in a server-side dry run: no node
      // here).
      ProcessResult applied = stack.kube.kubectlWithInput(everythingElse, "apply", "-f", "-");
      assertThat(applied.exitCode()).as(applied.stderr()).isZero();
      ProcessResult dryRun =
          stack.kube.kubectlWithInput(deploymentYaml, "apply", "--dry-run=server", "-f", "-");
      assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();

      assertWebhookConfigurationIsTheOperators(objects, release, namespace, List.of(agents));
      assertCanAndCannot(serviceAccount, namespace, release);
      runTheOperatorAsTheChartsServiceAccount(
          namespace, release, (Deployment) kind(objects, "Deployment"), agents);
    } finally {
      stack.kube.kubectlWithInput(
          everythingElse, "delete", "--ignore-not-found", "--wait=false", "-f", "-");
    }
  }

  /**
   * The chart renders what WebhookRegistration builds (manage=false must not drift from
   * manage=true).
   */
  private static void assertWebhookConfigurationIsTheOperators(
      List<HasMetadata> objects, String release, String namespace, List<String> watched) {
    MutatingWebhookConfiguration chart =
        (MutatingWebhookConfiguration) kind(objects, "MutatingWebhookConfiguration");
    assertThat(chart.getMetadata().getName()).isEqualTo(release + "-injector");
    MutatingWebhookConfiguration code =
        WebhookRegistration.desired(
            release + "-injector",
            WebhookRegistration.Target.service(namespace, release + "-webhook", 443),
            "unused",
            namespace,
            watched);
    MutatingWebhook rendered = chart.getWebhooks().getFirst();
    MutatingWebhook built = code.getWebhooks().getFirst();
    assertThat(chart.getWebhooks()).hasSize(2);
    MutatingWebhook renderedApproval = chart.getWebhooks().get(1);
    MutatingWebhook builtApproval = code.getWebhooks().get(1);
    assertThat(renderedApproval.getClientConfig().getService())
        .isEqualTo(builtApproval.getClientConfig().getService());
    assertThat(renderedApproval.getNamespaceSelector().getMatchExpressions())
        .isEqualTo(builtApproval.getNamespaceSelector().getMatchExpressions());
    assertThat(
            new MutatingWebhookBuilder(renderedApproval)
                .withClientConfig(null)
                .withNamespaceSelector(null)
                .build())
        .isEqualTo(
            new MutatingWebhookBuilder(builtApproval)
                .withClientConfig(null)
                .withNamespaceSelector(null)
                .build());
    assertThat(rendered.getClientConfig().getService())
        .isEqualTo(built.getClientConfig().getService());
    assertThat(rendered.getClientConfig().getCaBundle())
        .as("the operator sets the caBundle, not the chart")
        .isNull();
    assertThat(rendered.getNamespaceSelector().getMatchExpressions())
        .isEqualTo(built.getNamespaceSelector().getMatchExpressions());
    assertThat(rendered.getNamespaceSelector().getMatchLabels())
        .containsExactly(Map.entry("capgate.dev/helm-it", "never"));
    assertThat(
            new MutatingWebhookBuilder(rendered)
                .withClientConfig(null)
                .withNamespaceSelector(null)
                .build())
        .isEqualTo(
            new MutatingWebhookBuilder(built)
                .withClientConfig(null)
                .withNamespaceSelector(null)
                .build());

    ValidatingAdmissionPolicy policy =
        (ValidatingAdmissionPolicy)
            named(objects, "ValidatingAdmissionPolicy", release + "-inject-label-required");
    assertThat(policy.getSpec()).isEqualTo(WebhookRegistration.annotationOnlyPolicy().getSpec());
    ValidatingAdmissionPolicyBinding binding =
        (ValidatingAdmissionPolicyBinding)
            named(objects, "ValidatingAdmissionPolicyBinding", release + "-inject-label-required");
    assertThat(binding.getSpec().getPolicyName()).isEqualTo(policy.getMetadata().getName());
    assertThat(binding.getSpec().getValidationActions())
        .isEqualTo(WebhookRegistration.annotationOnlyBinding().getSpec().getValidationActions());

    ValidatingAdmissionPolicy delegation =
        (ValidatingAdmissionPolicy)
            named(objects, "ValidatingAdmissionPolicy", release + "-session-delegation");
    assertThat(delegation.getSpec()).isEqualTo(DelegationPolicy.policy().getSpec());
    ValidatingAdmissionPolicyBinding delegationBinding =
        (ValidatingAdmissionPolicyBinding)
            named(objects, "ValidatingAdmissionPolicyBinding", release + "-session-delegation");
    assertThat(delegationBinding.getSpec().getPolicyName())
        .isEqualTo(delegation.getMetadata().getName());
    assertThat(delegationBinding.getSpec().getValidationActions())
        .isEqualTo(DelegationPolicy.binding().getSpec().getValidationActions());
  }

  private static void assertCanAndCannot(String as, String namespace, String release) {
    String anyNamespace = "agents-anywhere";
    List<String> can = new ArrayList<>();
    for (String verb : List.of("get", "list", "watch", "patch", "update")) {
      can.add(verb + " agentsessions.capgate.dev -A");
    }
    can.addAll(
        List.of(
            "patch agentsessions.capgate.dev --subresource=status -n " + anyNamespace,
            "update agentsessions.capgate.dev --subresource=status -n " + anyNamespace,
            "update agentsessions.capgate.dev --subresource=finalizers -n " + anyNamespace));
    for (String verb : List.of("get", "list", "watch", "delete", "deletecollection")) {
      can.add(verb + " pods -n " + anyNamespace);
    }
    for (String verb :
        List.of("create", "get", "list", "watch", "patch", "delete", "deletecollection")) {
      can.add(verb + " secrets -n " + anyNamespace);
    }
    for (String verb :
        List.of(
            "create", "get", "list", "watch", "patch", "update", "delete", "deletecollection")) {
      can.add(verb + " configmaps -n " + anyNamespace);
    }
    for (String verb : List.of("create", "get", "list", "watch", "patch", "update", "delete")) {
      can.add(verb + " roles.rbac.authorization.k8s.io -n " + anyNamespace);
      can.add(verb + " rolebindings.rbac.authorization.k8s.io -n " + anyNamespace);
    }
    can.add("create events -n " + anyNamespace);
    // Held requests: only to grant them to sidecars of sessions with approval rules.
    for (String verb : List.of("create", "get", "list", "watch")) {
      can.add(verb + " agentapprovals.capgate.dev -n " + anyNamespace);
    }
    can.add("patch agentapprovals.capgate.dev --subresource=status -n " + anyNamespace);
    // The webhook's Pod Security check reads the agent pod's namespace, and nothing more of it.
    can.add("get namespaces/" + anyNamespace);
    can.add(
        "get mutatingwebhookconfigurations.admissionregistration.k8s.io/" + release + "-injector");
    can.add(
        "patch mutatingwebhookconfigurations.admissionregistration.k8s.io/"
            + release
            + "-injector");
    can.add("create leases.coordination.k8s.io -n " + namespace);
    can.add("get leases.coordination.k8s.io/" + release + "-operator-leader -n " + namespace);
    can.add("update leases.coordination.k8s.io/" + release + "-operator-leader -n " + namespace);
    can.add("patch leases.coordination.k8s.io/" + release + "-operator-leader -n " + namespace);
    can.add("get secrets/" + release + "-webhook-tls -n " + namespace);
    can.add("get secrets/" + release + "-session-signer -n " + namespace);
    can.add("get services/" + release + "-webhook -n " + namespace);
    can.add("create tokenreviews.authentication.k8s.io");
    can.add("update secrets/" + release + "-webhook-tls -n " + namespace);

    List<String> cannot =
        List.of(
            // No way to widen its own rights or act as someone else.
            "escalate roles.rbac.authorization.k8s.io -n " + anyNamespace,
            "escalate clusterroles.rbac.authorization.k8s.io",
            "bind roles.rbac.authorization.k8s.io -n " + anyNamespace,
            "bind clusterroles.rbac.authorization.k8s.io",
            "create clusterroles.rbac.authorization.k8s.io",
            "create clusterrolebindings.rbac.authorization.k8s.io",
            "impersonate users",
            "impersonate groups",
            "impersonate serviceaccounts -n " + anyNamespace,
            "create serviceaccounts --subresource=token -n " + anyNamespace,
            // It never starts sessions: no delegation for anyone (the chart's delegator role is
            // bound to nobody).
            "delegate agentsessions.capgate.dev -n " + anyNamespace,
            "delegate agentsessions.capgate.dev/alice@example.com -n " + anyNamespace,
            // Nor does it delete or rewrite held requests (a decision is a person's, and final).
            "update agentapprovals.capgate.dev -n " + anyNamespace,
            "delete agentapprovals.capgate.dev -n " + anyNamespace,
            "get services/someone-elses -n " + namespace,
            "list services -n " + namespace,
            "update secrets/" + release + "-session-signer -n " + namespace,
            // Nodes and workloads are none of its business.
            "get nodes",
            "list nodes",
            "patch nodes --subresource=status",
            "create pods -n " + anyNamespace,
            "patch pods -n " + anyNamespace,
            "create pods --subresource=exec -n " + anyNamespace,
            "update pods --subresource=ephemeralcontainers -n " + anyNamespace,
            "delete namespaces",
            "list namespaces",
            "update namespaces/" + anyNamespace,
            // Pod CAs are immutable: never rewritten.
            "update secrets -n " + anyNamespace,
            // Only its own webhook configuration; the policy is the chart's in this mode.
            "patch mutatingwebhookconfigurations.admissionregistration.k8s.io/someone-elses-webhook",
            "create mutatingwebhookconfigurations.admissionregistration.k8s.io",
            "delete mutatingwebhookconfigurations.admissionregistration.k8s.io/"
                + release
                + "-injector",
            "create validatingwebhookconfigurations.admissionregistration.k8s.io",
            "patch validatingadmissionpolicies.admissionregistration.k8s.io/"
                + release
                + "-inject-label-required",
            "create customresourcedefinitions.apiextensions.k8s.io",
            // Leases of others (e.g. the control plane's).
            "update leases.coordination.k8s.io/kube-controller-manager -n kube-system",
            "update leases.coordination.k8s.io/another-lease -n " + namespace);

    List<String> wrong = new ArrayList<>();
    for (String check : can) {
      if (!canI(as, check)) {
        wrong.add("cannot " + check);
      }
    }
    for (String check : cannot) {
      if (canI(as, check)) {
        wrong.add("can " + check);
      }
    }
    assertThat(wrong).as("RBAC of " + as).isEmpty();
  }

  private static boolean canI(String as, String check) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", "--as=" + as));
    args.addAll(List.of(check.split(" ")));
    ProcessResult result = stack.kube.kubectl(args.toArray(String[]::new));
    String answer = result.stdout().strip();
    if (!answer.equals("yes") && !answer.equals("no")) {
      throw new IllegalStateException(
          "kubectl auth can-i " + check + ": " + result.stdout() + result.stderr());
    }
    return answer.equals("yes");
  }

  /**
   * The proof that counts: the operator, with the chart's ServiceAccount token and the environment
   * of the chart's Deployment, starts (leader election checks its Lease rights), patches the
   * chart's webhook configuration, reconciles a session, injects a pod, revokes — and the API
   * server never answers it 403.
   */
  private static void runTheOperatorAsTheChartsServiceAccount(
      String namespace, String release, Deployment deployment, String agents) throws Exception {
    String token =
        admin
            .serviceAccounts()
            .inNamespace(namespace)
            .withName(release + "-operator")
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(3600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    Set<String> forbidden = ConcurrentHashMap.newKeySet();
    Interceptor recorder =
        new Interceptor() {
          @Override
          public void after(
              HttpRequest request,
              HttpResponse<?> response,
              AsyncBody.Consumer<List<ByteBuffer>> consumer) {
            if (response.code() == 403) {
              forbidden.add(request.method() + " " + request.uri());
            }
          }

          @Override
          public CompletableFuture<Boolean> afterFailure(
              BasicBuilder builder, HttpResponse<?> response, RequestTags tags) {
            if (response.code() == 403) {
              forbidden.add(response.request().method() + " " + response.request().uri());
            }
            return CompletableFuture.completedFuture(false);
          }
        };
    KubernetesClient asOperator =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(io.fabric8.kubernetes.client.Config.empty())
                    .withMasterUrl(stack.kube.url())
                    .withCaCertData(
                        Base64.getEncoder()
                            .encodeToString(
                                stack.kube.caCertPem().getBytes(StandardCharsets.US_ASCII)))
                    .withOauthToken(token)
                    .withRequestRetryBackoffLimit(2)
                    .withRequestRetryBackoffInterval(200)
                    .build())
            .withHttpClientFactory(new JdkHttpClientFactory())
            .withHttpClientBuilderConsumer(
                b -> b.addOrReplaceInterceptor("forbidden-recorder", recorder))
            .build();

    Map<String, String> env = new HashMap<>();
    for (EnvVar var :
        deployment.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      } else if ("metadata.namespace".equals(var.getValueFrom().getFieldRef().getFieldPath())) {
        env.put(var.getName(), namespace);
      } else if ("metadata.name".equals(var.getValueFrom().getFieldRef().getFieldPath())) {
        env.put(var.getName(), release + "-operator-5f7c9d-x2x8q");
      }
    }
    assertThat(env)
        .containsEntry("CAPGATE_WEBHOOK_MANAGE_CONFIGURATION", "false")
        .containsEntry("CAPGATE_NAMESPACE", namespace)
        .containsKey("CAPGATE_VAULT_ADDR");
    // Reachable from this JVM instead of through the Service; only its own namespace to serve (the
    // JVM's shared operator handles the rest of the cluster).
    env.put("CAPGATE_WEBHOOK_HOST", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_PORT", "0");
    env.put("CAPGATE_METRICS_PORT", "0");
    env.put("CAPGATE_IDENTITY_PORT", "0");
    env.put("CAPGATE_WEBHOOK_CERT_NAMES", "127.0.0.1");
    assertThat(env).containsEntry("CAPGATE_WATCH_NAMESPACES", agents);
    OperatorConfig config = OperatorConfig.fromEnv(env);
    assertThat(config.webhookConfigurationName()).isEqualTo(release + "-injector");

    CapgateOperator operator = CapgateOperator.start(asOperator, config, () -> {});
    try {
      await("the chart's operator leads").atMost(Duration.ofSeconds(30)).until(operator::isLeader);
      // It labelled the namespace it serves (the chart lets it patch that one namespace).
      assertThat(admin.namespaces().withName(agents).get().getMetadata().getLabels())
          .containsEntry(UnservedNamespacePolicy.SERVED_BY, release + "-injector");
      Lease lease =
          admin
              .resources(Lease.class)
              .inNamespace(namespace)
              .withName(release + "-operator-leader")
              .get();
      assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(operator.identity());
      String caBundle =
          admin
              .admissionRegistration()
              .v1()
              .mutatingWebhookConfigurations()
              .withName(release + "-injector")
              .get()
              .getWebhooks()
              .getFirst()
              .getClientConfig()
              .getCaBundle();
      assertThat(new String(Base64.getDecoder().decode(caBundle), StandardCharsets.UTF_8))
          .isEqualTo(operator.caBundlePem());
      assertThat(admin.secrets().inNamespace(namespace).withName(release + "-webhook-tls").get())
          .isNotNull();
      assertThat(
              admin
                  .secrets()
                  .inNamespace(namespace)
                  .withName(release + "-session-signer")
                  .get()
                  .getData())
          .containsKeys("tls.key", "public.pem");

      // Reconcile: status, finalizer, the sidecars' Role/RoleBinding and lease ledger, events.
      stack.createSession(
          agents, githubSession("chart-session").ttl("1h").onRevoke(OnRevoke.DeletePods));
      await("the session is active")
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                AgentSession s =
                    admin
                        .resources(AgentSession.class)
                        .inNamespace(agents)
                        .withName("chart-session")
                        .get();
                return operator.reconciliations() > 0
                    && s.getStatus() != null
                    && s.getStatus().phase() == Phase.Active;
              });
      assertThat(
              admin
                  .rbac()
                  .roles()
                  .inNamespace(agents)
                  .withName(SessionNames.sidecarRbac("chart-session"))
                  .get())
          .isNotNull();
      assertThat(
              admin
                  .configMaps()
                  .inNamespace(agents)
                  .withName(SessionNames.leases("chart-session"))
                  .get())
          .isNotNull();

      // Admission: this replica mints the CA and stores its Secret (the roots: one ConfigMap per
      // namespace).
      Pod pod =
          OperatorUnderTest.SERIALIZATION.unmarshal(
              agentPod("chart-agent", "chart-session", "default"), Pod.class);
      pod.getMetadata().setNamespace(agents);
      JsonNode response =
          new AdmissionClient(operator.webhookPort(), operator.caBundlePem()).create(agents, pod);
      assertThat(response.get("allowed").asBoolean()).as(response.toString()).isTrue();
      // The Secret is written once the answer is sent (operator/README, "Footprint").
      stack.awaitPodCaSecrets(agents, 1);
      // Sidecars reach this operator at the Service's cluster IP (no cluster DNS needed), which its
      // serving certificate carries, and trust only its CA.
      String clusterIp =
          admin
              .services()
              .inNamespace(namespace)
              .withName(release + "-webhook")
              .get()
              .getSpec()
              .getClusterIP();
      String patch = AdmissionClient.patch(response).toString();
      assertThat(patch)
          .contains("\"CAPGATE_OPERATOR_URL\",\"value\":\"https://" + clusterIp + ":8443\"")
          .contains("\"CAPGATE_IDENTITY_TOKEN_FILE\"")
          .contains("\"audience\":\"capgate\"");
      assertThat(
              admin
                  .secrets()
                  .inNamespace(namespace)
                  .withName(release + "-webhook-tls")
                  .get()
                  .getMetadata()
                  .getAnnotations()
                  .get("capgate.dev/serving-names"))
          .contains(clusterIp);

      // A real pod of the session (injected through the API server by the JVM's shared operator):
      // this replica binds its service account and takes custody of its CA.
      stack.createPod(agents, agentPod("chart-agent-stored", "chart-session", "default"));
      await("the pod's service account is bound")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  admin
                      .rbac()
                      .roleBindings()
                      .inNamespace(agents)
                      .withName(SessionNames.sidecarRbac("chart-session"))
                      .get()
                      .getSubjects()
                      .stream()
                      .anyMatch(s -> s.getName().equals("default")));

      // /v1/vault-token as the chart's ServiceAccount: TokenReview and the pod look-up are allowed
      // (no 403 recorded); the pod was injected by the JVM's shared operator, whose sidecar image
      // is not this release's, so attestation refuses it.
      Pod stored = admin.pods().inNamespace(agents).withName("chart-agent-stored").get();
      String podToken =
          admin
              .serviceAccounts()
              .inNamespace(agents)
              .withName("default")
              .tokenRequest(
                  new TokenRequestBuilder()
                      .withNewSpec()
                      .withAudiences("capgate")
                      .withExpirationSeconds(3600L)
                      .withNewBoundObjectRef()
                      .withApiVersion("v1")
                      .withKind("Pod")
                      .withName("chart-agent-stored")
                      .withUid(stored.getMetadata().getUid())
                      .endBoundObjectRef()
                      .endSpec()
                      .build())
              .getStatus()
              .getToken();
      var answer =
          VaultTokenClient.ask(
              "https://127.0.0.1:" + operator.identityPort(),
              operator.caBundlePem(),
              podToken,
              "{}");
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(403);
      assertThat(answer.body()).contains("does not run the configured sidecar image");

      // Revocation: CAs and (DeletePods) pods go, the finalizer comes off.
      admin.resources(AgentSession.class).inNamespace(agents).withName("chart-session").delete();
      await("the session is revoked and gone")
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  admin
                          .resources(AgentSession.class)
                          .inNamespace(agents)
                          .withName("chart-session")
                          .get()
                      == null);
      await("its pods are deleted")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  admin
                      .pods()
                      .inNamespace(agents)
                      .withLabel("capgate.dev/session", "chart-session")
                      .list()
                      .getItems()
                      .isEmpty());
    } finally {
      operator.close();
      asOperator.close();
    }
    assertThat(forbidden).as("requests the chart's RBAC refused the operator").isEmpty();
  }

  /**
   * watchNamespaces narrows the webhook to those namespaces, as the operator's own registration
   * does, and adds the unserved-namespaces policy, bound to namespaces no installation labelled
   * served (ServedNamespacesIT shows it with two installations); the operator may label exactly
   * those namespaces. Without watchNamespaces there is no such policy.
   */
  @Test
  void watchNamespacesNarrowTheWebhookAndAddTheUnservedNamespacesPolicy() {
    List<String> watched = List.of("team-a", "team-b");
    String namespace = OperatorUnderTest.OPERATOR_NAMESPACE;
    String rendered =
        template(
                "capgate",
                namespace,
                "--set",
                "vault.address=" + VAULT,
                "--set",
                "watchNamespaces={team-a,team-b}")
            .orThrow()
            .stdout();
    List<HasMetadata> objects = parse(rendered);
    MutatingWebhookConfiguration chart =
        (MutatingWebhookConfiguration) kind(objects, "MutatingWebhookConfiguration");
    MutatingWebhookConfiguration code =
        WebhookRegistration.desired(
            "capgate-injector",
            WebhookRegistration.Target.service(namespace, "capgate-webhook", 443),
            "unused",
            namespace,
            watched);
    assertThat(chart.getWebhooks().getFirst().getNamespaceSelector())
        .isEqualTo(code.getWebhooks().getFirst().getNamespaceSelector());
    assertThat(chart.getWebhooks().getFirst().getNamespaceSelector().getMatchExpressions())
        .anySatisfy(
            e -> {
              assertThat(e.getOperator()).isEqualTo("In");
              assertThat(e.getValues()).isEqualTo(watched);
            });

    String name = UnservedNamespacePolicy.name("capgate-injector");
    ValidatingAdmissionPolicy policy =
        (ValidatingAdmissionPolicy) named(objects, "ValidatingAdmissionPolicy", name);
    assertThat(policy.getSpec()).isEqualTo(UnservedNamespacePolicy.policy(name).getSpec());
    ValidatingAdmissionPolicyBinding binding =
        (ValidatingAdmissionPolicyBinding) named(objects, "ValidatingAdmissionPolicyBinding", name);
    assertThat(binding.getSpec()).isEqualTo(UnservedNamespacePolicy.binding(name).getSpec());
    assertThat(rendered)
        .contains(
            "  - apiGroups: [\"\"]\n    resources: [namespaces]\n    resourceNames:\n"
                + "      - team-a\n      - team-b\n    verbs: [patch]\n");

    // The API server takes the policy and its binding as rendered (CEL compiled, selector valid).
    String both =
        documents(rendered).stream()
            .filter(d -> d.contains("name: " + name + "\n"))
            .reduce((x, y) -> x + "\n---\n" + y)
            .orElseThrow();
    ProcessResult dryRun =
        stack.kube.kubectlWithInput(both, "apply", "--dry-run=server", "-f", "-");
    assertThat(dryRun.exitCode()).as(dryRun.stderr()).isZero();
    assertThat(dryRun.stdout()).contains(name);

    String all =
        template("capgate", namespace, "--set", "vault.address=" + VAULT).orThrow().stdout();
    assertThat(all)
        .doesNotContain("unserved-namespaces")
        .doesNotContain("resources: [namespaces]\n    resourceNames:");
    String managed =
        template(
                "capgate",
                namespace,
                "--set",
                "vault.address=" + VAULT,
                "--set",
                "webhook.manageConfiguration=true",
                "--set",
                "watchNamespaces={team-a}")
            .orThrow()
            .stdout();
    assertThat(managed)
        .doesNotContain("kind: ValidatingAdmissionPolicy\n")
        .contains("resourceNames: [\"" + name + "\"]\n    verbs: [get, patch, delete]");
  }

  /**
   * webhook.certManager: a cert-manager Certificate writing the Secret the operator reads (and is
   * told it only reads), the CA injection annotation on the webhook configuration, sidecars pointed
   * at a name the Certificate carries; the names are the operator's own certificate's
   * (OperatorConfig.servingCertificateNames, from the Deployment's environment). The schema wants
   * an issuer. ProvidedServingCertificateIT shows the operator's side on the API server.
   */
  @Test
  void certManagerRendersTheCertificateTheOperatorReads() {
    String namespace = "capgate-system";
    String rendered =
        template(
                "capgate",
                namespace,
                "--set",
                "vault.address=" + VAULT,
                "--set",
                "webhook.certManager.enabled=true",
                "--set",
                "webhook.certManager.issuerRef.name=webhook-ca",
                "--set",
                "webhook.certManager.issuerRef.kind=ClusterIssuer",
                "--set",
                "webhook.certManager.renewBefore=720h")
            .orThrow()
            .stdout();
    List<HasMetadata> objects = parse(rendered);
    var certificate =
        (io.fabric8.kubernetes.api.model.GenericKubernetesResource) kind(objects, "Certificate");
    assertThat(certificate.getApiVersion()).isEqualTo("cert-manager.io/v1");
    Map<String, Object> spec = certificate.get("spec");
    Map<String, String> env = operatorEnv((Deployment) kind(objects, "Deployment"));
    OperatorConfig config = OperatorConfig.fromEnv(env);
    assertThat(config.webhookCertificateProvided()).isTrue();
    assertThat(spec.get("secretName")).isEqualTo(config.webhookCertificateSecret());
    assertThat(spec.get("dnsNames")).isEqualTo(config.servingCertificateNames());
    assertThat(spec.get("issuerRef"))
        .isEqualTo(
            Map.of("name", "webhook-ca", "kind", "ClusterIssuer", "group", "cert-manager.io"));
    assertThat(spec.get("renewBefore")).isEqualTo("720h");
    assertThat(spec).doesNotContainKey("duration");
    @SuppressWarnings("unchecked")
    Map<String, Object> privateKey = (Map<String, Object>) spec.get("privateKey");
    assertThat(privateKey)
        .containsEntry("algorithm", "ECDSA")
        .containsEntry("encoding", "PKCS8")
        .containsEntry("rotationPolicy", "Always");
    // The identity listener's URL must be a name the certificate carries (no cluster IP in it).
    assertThat(env.get("CAPGATE_OPERATOR_URL"))
        .isEqualTo("https://capgate-webhook." + namespace + ".svc:8443");
    assertThat(config.servingCertificateNames()).contains("capgate-webhook." + namespace + ".svc");
    MutatingWebhookConfiguration webhook =
        (MutatingWebhookConfiguration) kind(objects, "MutatingWebhookConfiguration");
    assertThat(webhook.getMetadata().getAnnotations())
        .containsEntry(
            "cert-manager.io/inject-ca-from",
            namespace + "/" + certificate.getMetadata().getName());

    // Off (the default): no Certificate, no annotation, the operator keeps its own.
    List<HasMetadata> plain =
        parse(template("capgate", namespace, "--set", "vault.address=" + VAULT).orThrow().stdout());
    assertThat(plain).extracting(HasMetadata::getKind).doesNotContain("Certificate");
    assertThat(
            ((MutatingWebhookConfiguration) kind(plain, "MutatingWebhookConfiguration"))
                .getMetadata()
                .getAnnotations())
        .isNullOrEmpty();
    Map<String, String> plainEnv = operatorEnv((Deployment) kind(plain, "Deployment"));
    assertThat(plainEnv)
        .doesNotContainKeys("CAPGATE_WEBHOOK_CERT_PROVIDED", "CAPGATE_OPERATOR_URL");

    ProcessResult noIssuer =
        template(
            "capgate",
            namespace,
            "--set",
            "vault.address=" + VAULT,
            "--set",
            "webhook.certManager.enabled=true");
    assertThat(noIssuer.exitCode()).isNotZero();
    assertThat(noIssuer.stderr()).contains("webhook/certManager/issuerRef");
  }

  private static HasMetadata named(List<HasMetadata> objects, String kind, String name) {
    return objects.stream()
        .filter(o -> kind.equals(o.getKind()) && name.equals(o.getMetadata().getName()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("the chart renders no " + kind + " " + name));
  }

  /** The operator container's literal environment variables. */
  private static Map<String, String> operatorEnv(Deployment deployment) {
    Map<String, String> env = new HashMap<>();
    deployment.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv().stream()
        .filter(v -> v.getValue() != null)
        .forEach(v -> env.put(v.getName(), v.getValue()));
    return env;
  }

  /** The one object of that type the chart renders with Vault's address and {@code args}. */
  private static <T extends HasMetadata> T rendered(Class<T> type, String... args) {
    List<String> all = new ArrayList<>(List.of("--set", "vault.address=" + VAULT));
    all.addAll(List.of(args));
    String rendered =
        template("capgate", "capgate-system", all.toArray(String[]::new)).orThrow().stdout();
    return type.cast(kind(parse(rendered), type.getSimpleName()));
  }

  private static HasMetadata kind(List<HasMetadata> objects, String kind) {
    return objects.stream()
        .filter(o -> kind.equals(o.getKind()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("the chart renders no " + kind));
  }

  /** The YAML documents of a rendering that hold an object (helm also emits comment-only ones). */
  private static List<String> documents(String rendered) {
    List<String> out = new ArrayList<>();
    for (String doc : rendered.split("(?m)^---\\s*$")) {
      if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
        out.add(doc.strip() + "\n");
      }
    }
    return out;
  }

  private static List<HasMetadata> parse(String rendered) {
    return documents(rendered).stream()
        .map(d -> (HasMetadata) OperatorUnderTest.SERIALIZATION.unmarshal(d))
        .toList();
  }

  private static ProcessResult template(String release, String namespace, String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "template",
                release,
                CHART.toString(),
                "--namespace",
                namespace,
                "--kube-version",
                "1.35.0"));
    all.addAll(List.of(args));
    return helm(all.toArray(String[]::new));
  }

  /**
   * The helm `make tools` built, with its homes under target/ (nothing read from or written to ~).
   */
  static ProcessResult helm(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Tools.bin("helm").toString());
    command.addAll(List.of(args));
    try {
      Path home = Files.createDirectories(Path.of("target", "helm-home")).toAbsolutePath();
      Path out = Files.createTempFile(home, "helm", ".out");
      Path err = Files.createTempFile(home, "helm", ".err");
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
      builder.environment().put("HELM_CACHE_HOME", home.resolve("cache").toString());
      builder.environment().put("HELM_CONFIG_HOME", home.resolve("config").toString());
      builder.environment().put("HELM_DATA_HOME", home.resolve("data").toString());
      builder.environment().remove("KUBECONFIG");
      Process process = builder.start();
      if (!process.waitFor(2, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new IllegalStateException(
            "helm " + String.join(" ", args) + " did not finish within 2 minutes");
      }
      ProcessResult result =
          new ProcessResult(process.exitValue(), Files.readString(out), Files.readString(err));
      Files.delete(out);
      Files.delete(err);
      return result;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
