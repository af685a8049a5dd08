package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Kind stack ({@code e2e/kind/}) and the local stack ({@code e2e/stack/}) run the same {@code
 * *E2E} classes, so they must agree on what those classes meet: the upstreams' hosts and
 * certificate, the OpenBao and Kubernetes versions of {@code make tools}, the images, the chart's
 * values and the keys of {@code stack.env}. Kind cannot run in {@code make test} (it needs a
 * container engine), so this reads both stacks' scripts and fails when they part: a review found
 * the Kind certificate without the package indexes the client matrix calls (issue 14).
 *
 * <p>The shared values live once, in {@code e2e/stack/shared.env}; the versions once, in {@code
 * hack/tools.sh}. This checks that both stacks take them from there and spell none of their own.
 */
class StackConsistencyTest {
  private static final Path ROOT = repositoryRoot();
  private static final Path SHARED = ROOT.resolve("e2e/stack/shared.env");
  private static final Path TOOLS = ROOT.resolve("hack/tools.sh");
  private static final Path IMAGES = ROOT.resolve("hack/images.sh");
  private static final Path STACK_ENV_SH = ROOT.resolve("e2e/stack/env.sh");
  private static final Path STACK_UP = ROOT.resolve("e2e/stack/stack-up.sh");
  private static final Path KIND_ENV_SH = ROOT.resolve("e2e/kind/env.sh");
  private static final Path KIND_UP = ROOT.resolve("e2e/kind/up.sh");
  private static final List<Path> KIND_FILES =
      List.of(
          KIND_ENV_SH,
          KIND_UP,
          ROOT.resolve("e2e/kind/run.sh"),
          ROOT.resolve("e2e/kind/down.sh"),
          ROOT.resolve("e2e/kind/kind-config.yaml"),
          ROOT.resolve("e2e/kind/kind-config.local.yaml"),
          ROOT.resolve("e2e/kind/node-image.sh"),
          ROOT.resolve("e2e/kind/openbao-image.sh"),
          ROOT.resolve("e2e/kind/upstreams-entrypoint.sh"),
          ROOT.resolve("e2e/kind/upstreams.Dockerfile"));

  private static final String KEYCLOAK_LOCAL =
      "Keycloak runs on the local stack only: e2e/kind/run.sh excludes OAuthE2E";

  private static final String GRPC_LOCAL =
      "the gRPC test server runs on the local stack only: e2e/kind/run.sh excludes GrpcE2E";

  /**
   * Keys only the local stack writes, and why Kind has none: the suite reads each with a default.
   */
  private static final Map<String, String> LOCAL_ONLY_KEYS =
      Map.ofEntries(
          Map.entry("CAPGATE_E2E_CANARY_HOST6", "the IPv6 canary on the local node's pod range"),
          Map.entry(
              "CAPGATE_E2E_GIT_ROOT",
              "Kind's Git root is inside the upstreams pod (push denial checked by the 403 only)"),
          Map.entry(
              "CAPGATE_E2E_S3_BLOBS",
              "Kind's s3proxy keeps its blobs inside its pod (bucket-b checked by the 403 only)"),
          Map.entry("CAPGATE_E2E_AUTH_HOST", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_AUTH_IP", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_OAUTH_REALM", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_KEYCLOAK_URL", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_KEYCLOAK_ADMIN_PASSWORD_FILE", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_OAUTH_CLIENT_SECRET_FILE", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_OAUTH_ALICE_PASSWORD_FILE", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_OAUTH_REFRESH_TOKEN_FILE", KEYCLOAK_LOCAL),
          Map.entry("CAPGATE_E2E_GRPC_HOST", GRPC_LOCAL),
          Map.entry("CAPGATE_E2E_GRPC_IP", GRPC_LOCAL));

  /** Keys only Kind writes: its OpenBao and upstreams log to pods, not files. */
  private static final Set<String> KIND_ONLY_KEYS =
      Set.of(
          "CAPGATE_E2E_LOG_PODS",
          // Vault is a ClusterIP there: LifecycleE2E port-forwards to give it a new session key.
          "CAPGATE_E2E_VAULT_PORT_FORWARD");

  private static final Pattern TEST_HOST =
      Pattern.compile("(?<![@\\w.-])([a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.test)\\b");

  @Test
  void theSharedHostsAreExactlyTheHostsTheUpstreamsServe() throws IOException {
    Set<String> served = new TreeSet<>();
    Matcher host =
        Pattern.compile("\\.host\\(\\s*\"([^\"]+)\"")
            .matcher(
                read(ROOT.resolve("e2e/src/main/java/dev/capgate/e2e/upstream/Upstreams.java")));
    while (host.find()) {
      served.add(host.group(1));
    }
    assertThat(new TreeSet<>(upstreamHosts()))
        .as("UPSTREAM_HOSTS of %s against the hosts Upstreams.main serves", SHARED)
        .isEqualTo(served);
  }

  @Test
  void bothStacksResolveEveryNameAndHostFromTheSharedFile() throws IOException {
    Map<String, String> shared = sharedAssignments();
    String names = String.join(" ", shared.keySet());
    String print =
        "for n in " + names + "; do v=\"$n[*]\"; printf '%s=%s\\n' \"$n\" \"${!v}\"; done";
    for (Path env : List.of(STACK_ENV_SH, KIND_ENV_SH)) {
      Map<String, String> resolved = new TreeMap<>();
      for (String line : bash("source '" + env + "' >/dev/null 2>&1; " + print).split("\n")) {
        int eq = line.indexOf('=');
        resolved.put(line.substring(0, eq), line.substring(eq + 1));
      }
      assertThat(resolved)
          .as(
              "the shared names as %s leaves them (it must source %s and redefine none)",
              env, SHARED)
          .isEqualTo(new TreeMap<>(shared));
    }
  }

  @Test
  void noScriptTestOrStackNamesAHostOutsideTheSharedListOrRedefinesASharedName()
      throws IOException {
    Set<String> sharedNames = sharedAssignments().keySet();
    List<String> hosts = sharedHosts();
    List<Path> scripts = new ArrayList<>(KIND_FILES);
    scripts.addAll(List.of(STACK_ENV_SH, STACK_UP));
    for (Path script : scripts) {
      String text = read(script);
      assertThat(allMatches(TEST_HOST, text))
          .as("hosts named in %s that the upstreams' certificate (%s) lacks", script, SHARED)
          .allMatch(hosts::contains);
      for (String name : sharedNames) {
        assertThat(
                Pattern.compile("(?m)^\\s*(?:export\\s+|local\\s+)?" + name + "=")
                    .matcher(text)
                    .find())
            .as("%s assigns %s, which %s defines for both stacks", script, name, SHARED)
            .isFalse();
      }
    }
    try (var files = Files.walk(ROOT.resolve("e2e/src/test/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith("E2E.java")).toList()) {
        assertThat(allMatches(TEST_HOST, read(f)))
            .as("hosts %s calls that the upstreams' certificate (%s) lacks", f, SHARED)
            .allMatch(hosts::contains);
      }
    }
  }

  @Test
  void bothUpstreamCertificatesNameEverySharedHost() throws IOException {
    String sans = "printf 'DNS:%s,' \"${UPSTREAM_HOSTS[@]}\"";
    for (Path up : List.of(STACK_UP, KIND_UP)) {
      String text = read(up);
      assertThat(text)
          .as("%s makes the upstreams' SANs from UPSTREAM_HOSTS", up)
          .contains(sans)
          .contains("subjectAltName=%s");
      assertThat(text)
          .as("%s hands the agents' hostAliases every shared host", up)
          .contains("CAPGATE_E2E_UPSTREAM_HOSTS=\"${UPSTREAM_HOSTS[*]}\"");
    }
  }

  @Test
  void kindRunsTheKubernetesAndOpenBaoVersionsOfMakeTools() throws IOException {
    Map<String, String> versions = assignments(read(TOOLS));
    String kube = versions.get("KUBE_VERSION");
    String openbao = versions.get("OPENBAO_VERSION");
    assertThat(kube).as("KUBE_VERSION in %s", TOOLS).matches("v1\\.\\d+\\.\\d+");
    assertThat(openbao).as("OPENBAO_VERSION in %s", TOOLS).matches("\\d+\\.\\d+\\.\\d+");
    for (String engine : List.of("docker", "podman")) {
      String[] images =
          bash(
                  "source '"
                      + KIND_ENV_SH
                      + "' >/dev/null 2>&1; echo \"$KIND_NODE_IMAGE $OPENBAO_IMAGE\"",
                  Map.of("KIND_ENGINE", engine))
              .trim()
              .split(" ");
      assertThat(tag(images[0]))
          .as("the Kind node image %s (%s)", images[0], engine)
          .isEqualTo(kube);
      assertThat(tag(images[1]))
          .as("Kind's OpenBao image %s (%s)", images[1], engine)
          .isEqualTo(openbao);
    }
    String up = read(KIND_UP);
    assertThat(up)
        .as("%s creates the cluster from the node image", KIND_UP)
        .contains("--image \"$KIND_NODE_IMAGE\"");
    assertThat(up).as("%s runs OpenBao from its image", KIND_UP).contains("image: $OPENBAO_IMAGE");
    for (String config : List.of("kind-config.yaml", "kind-config.local.yaml")) {
      assertThat(read(ROOT.resolve("e2e/kind/" + config)))
          .as("%s pins no node image of its own", config)
          .doesNotContain("image:");
    }
  }

  /**
   * Kubelet 1.35 refuses to start on cgroup v1 unless its configuration says {@code failCgroupV1:
   * false}; the project's machines (and the Kind nodes on them) have cgroup v1. Missing in one
   * stack, that stack's node never registers and only that path breaks, long after {@code make
   * test}.
   */
  @Test
  void everyKubeletOfBothStacksIsToldCgroupV1IsFine() throws IOException {
    Pattern kubeletConfig =
        Pattern.compile(
            "(?m)^\\s*kind: KubeletConfiguration\\n(?:[^\\n]*\\n)*?\\s*failCgroupV1: false$");
    for (Path file :
        List.of(
            ROOT.resolve("e2e/cluster/cluster-up.sh"),
            ROOT.resolve("e2e/kind/kind-config.yaml"),
            ROOT.resolve("e2e/kind/kind-config.local.yaml"))) {
      assertThat(read(file))
          .as("%s gives its KubeletConfiguration failCgroupV1: false", file)
          .containsPattern(kubeletConfig);
    }
  }

  @Test
  void bothStacksInstallTheChartWithTheSameValues() throws IOException {
    Set<String> local = chartValues(read(STACK_UP));
    Set<String> kind = chartValues(read(KIND_UP));
    assertThat(local).as("--set values of %s", STACK_UP).isNotEmpty();
    assertThat(kind).as("--set values of %s against %s", KIND_UP, STACK_UP).isEqualTo(local);
    assertThat(local)
        .as("both stacks serve OpenBao over TLS and give the chart its CA (issue 14)")
        .contains("vault.caCert.configMap=\"$VAULT_CA_CONFIGMAP\"");
  }

  @Test
  void kindLoadsEveryImageTheLocalStackImportsUnderTheSameNames() throws IOException {
    Set<String> local = imageTargets(read(STACK_UP), "--import");
    Set<String> kind = imageTargets(read(KIND_UP), "--archive");
    assertThat(local).as("hack/images.sh targets of %s", STACK_UP).isNotEmpty();
    assertThat(kind).as("hack/images.sh targets of %s", KIND_UP).containsAll(local);

    String images = read(IMAGES);
    Set<String> built = new TreeSet<>();
    for (String assignment : allMatches(Pattern.compile("(?m)^([A-Z_]+=.*)$"), images)) {
      built.addAll(
          allMatches(Pattern.compile("(capgate\\.local/[a-z0-9-]+:[a-z0-9.]+)"), assignment));
    }
    Set<String> named = new TreeSet<>();
    try (var files = Files.walk(ROOT.resolve("e2e/src/test/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        named.addAll(
            allMatches(Pattern.compile("(capgate\\.local/[a-z0-9-]+:[a-z0-9.]+)"), read(f)));
      }
    }
    assertThat(built).as("images %s names", IMAGES).containsAll(named);
    for (String chartImage : List.of("operator", "sidecar")) {
      assertThat(kind).contains(chartImage);
      String ref = "capgate.local/" + chartImage + ":dev";
      assertThat(built).as("%s builds the chart's %s", IMAGES, ref).contains(ref);
    }
    assertThat(chartValues(read(KIND_UP)))
        .contains(
            "image.repository=capgate.local/operator",
            "image.tag=dev",
            "sidecar.image.repository=capgate.local/sidecar",
            "sidecar.image.tag=dev");
  }

  @Test
  void kindWritesEveryStackEnvKeyTheLocalStackWritesButTheDocumentedOnes() throws IOException {
    Set<String> local = stackEnvKeys(read(STACK_UP));
    Set<String> kind = stackEnvKeys(read(KIND_UP));
    Set<String> expected = new TreeSet<>(local);
    expected.removeAll(LOCAL_ONLY_KEYS.keySet());
    expected.addAll(KIND_ONLY_KEYS);
    assertThat(local).as("keys of %s", STACK_UP).containsAll(LOCAL_ONLY_KEYS.keySet());
    assertThat(kind).as("stack.env keys of %s against %s", KIND_UP, STACK_UP).isEqualTo(expected);
  }

  // --- reading the scripts ---------------------------------------------------------------------

  /**
   * The upstreams' names, the S3 server's, the authorization server's and the gRPC server's
   * (s3proxy, Keycloak, grpc-testserver: each its own certificate and Service).
   */
  private static List<String> sharedHosts() throws IOException {
    List<String> hosts =
        new ArrayList<>(Arrays.asList(sharedAssignments().get("UPSTREAM_HOSTS").split(" ")));
    hosts.add(sharedAssignments().get("S3_HOST"));
    hosts.add(sharedAssignments().get("AUTH_HOST"));
    hosts.add(sharedAssignments().get("GRPC_HOST"));
    return hosts;
  }

  /** The hosts Upstreams.main serves: the shared list without the S3 and Keycloak hosts. */
  private static List<String> upstreamHosts() throws IOException {
    return Arrays.asList(sharedAssignments().get("UPSTREAM_HOSTS").split(" "));
  }

  /** NAME=value and NAME=(a b c) lines of shared.env, arrays joined by spaces. */
  private static Map<String, String> sharedAssignments() throws IOException {
    Map<String, String> values = assignments(read(SHARED));
    assertThat(values).as("assignments in %s", SHARED).containsKey("UPSTREAM_HOSTS");
    return values;
  }

  private static Map<String, String> assignments(String text) {
    Map<String, String> values = new LinkedHashMap<>();
    Matcher m = Pattern.compile("(?m)^([A-Z][A-Z0-9_]*)=(\\(([^)]*)\\)|(\\S*))\\s*$").matcher(text);
    while (m.find()) {
      values.put(
          m.group(1), m.group(3) != null ? m.group(3).trim().replaceAll("\\s+", " ") : m.group(4));
    }
    return values;
  }

  private static Set<String> chartValues(String script) {
    return new TreeSet<>(allMatches(Pattern.compile("--set\\s+(\\S+)"), script));
  }

  private static Set<String> imageTargets(String script, String mode) {
    Matcher m =
        Pattern.compile("hack/images\\.sh\"?\\s+" + mode + "((?:\\s+[a-z-]+)+)").matcher(script);
    assertThat(m.find()).as("a call of hack/images.sh %s", mode).isTrue();
    return new TreeSet<>(Arrays.asList(m.group(1).trim().split("\\s+")));
  }

  private static Set<String> stackEnvKeys(String script) {
    return new TreeSet<>(allMatches(Pattern.compile("(?m)^(CAPGATE_E2E_[A-Z0-9_]+)="), script));
  }

  private static List<String> allMatches(Pattern pattern, String text) {
    List<String> found = new ArrayList<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  private static String tag(String image) {
    return image.substring(image.lastIndexOf(':') + 1);
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  /** Runs a bash snippet with no image overrides from the caller's environment; its stdout. */
  private static String bash(String script) throws IOException {
    return bash(script, Map.of());
  }

  private static String bash(String script, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(ROOT.toFile());
    pb.environment().keySet().removeIf(k -> k.endsWith("_IMAGE") || k.startsWith("KIND_"));
    pb.environment().putAll(env);
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("bash -c %s finished", script).isTrue();
      assertThat(p.exitValue()).as("exit status of bash -c %s", script).isZero();
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private static Path repositoryRoot() {
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("e2e/stack/shared.env"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no e2e/stack/shared.env at or above " + start);
  }
}
