package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 11 on the real node: every way around admission and identity that was found open, tried
 * again against the running stack, with a canary outside the pod (any connection that reaches it
 * got around the sidecar). Each case prints the command, what came back and the canary's record
 * ({@code [bypass (x)]} lines; also {@code target/e2e-logs/admission-bypass.txt}). The root and
 * image cases use real images: {@code agent-root:dev} (no USER) and {@code agent-1447:dev} ({@code
 * USER 1447}) from {@code make images}.
 *
 * <p>Cases: (a) a root agent calls setuid(1447); (b) no runAsUser, an image's USER 1447, runAsUser
 * 1447; (c) a root ephemeral container and a root init container; (d) an UPDATE swapping the
 * agent's image for the USER 1447 one; (e) a forged "already injected" pod; (f) Capgate's labels
 * changed by UPDATE and through pods/status; (g) a plain pod with the agents' service account
 * logging in to Vault; (h) a session naming another user without the delegate permission; (i) an
 * unauthenticated POST /mutate from a plain pod; (j) a peer pod connecting in to the agent and
 * reading its admin port.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdmissionBypassE2E {
  static final Evidence EVIDENCE = new Evidence("admission-bypass.txt");
  static final String ALICE_PATH = "secret/data/github/alice@example.com";
  static final String PEER = "peer";

  /**
   * How kubectl prints a refusal by a webhook ("denied the request") or a ValidatingAdmissionPolicy
   * ("denied request").
   */
  static final String DENIED = "denied (the )?request";

  static AgentSandbox sandbox;
  static Canary canary;
  static BypassLab lab;

  /** (i): the namespace the forged AdmissionReview names, and when it was sent. */
  static String ghostNamespace;

  @BeforeAll
  static void start() {
    sandbox = AgentSandbox.start("bypass", Sessions.article("bypass"));
    canary = new Canary();
    lab = new BypassLab(sandbox, canary, EVIDENCE);
    // A plain pod next to the agents (no injection): the attacker's vantage point for (i), (j).
    lab.create(
            "setup",
            lab.pod(
                PEER,
                "{capgate.dev/inject: \"false\"}",
                "{}",
                """
        automountServiceAccountToken: false
        containers:
          - name: agent
            image: %s
            imagePullPolicy: Never
            securityContext: {runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false}
        """
                    .formatted(BypassLab.AGENT)))
        .orThrow();
    lab.awaitReady(PEER);
  }

  @AfterAll
  static void stop() throws IOException {
    if (ghostNamespace != null) {
      sandbox.kubectl().run("delete", "namespace", ghostNamespace, "--wait=false");
    }
    if (canary != null) {
      EVIDENCE.note(
          "summary",
          "canary outside the pods recorded "
              + canary.hits().size()
              + " connection(s) in all: "
              + canary.hits());
      canary.close();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }

  // --- (i) first: what it leaves behind is checked last, after the orphaned-CA grace
  // ---------------

  @Test
  @Order(1)
  void i_unauthenticatedMutateFromAPlainPod() {
    String c = "bypass (i)";
    ghostNamespace = "e2e-ghost-" + AgentSandbox.random(5);
    Kubectl k = sandbox.kubectl();
    k.run("create", "namespace", ghostNamespace).orThrow();
    k.run(
            Sessions.article("ghost").yaml().getBytes(StandardCharsets.UTF_8),
            Duration.ofSeconds(60),
            "-n",
            ghostNamespace,
            "apply",
            "-f",
            "-")
        .orThrow();
    String[] operator = lab.operatorBaseAndWebhookPath();
    String url = operator[0] + operator[1];
    String review =
        new JsonObject()
            .put("apiVersion", "admission.k8s.io/v1")
            .put("kind", "AdmissionReview")
            .put(
                "request",
                new JsonObject()
                    .put("uid", UUID.randomUUID().toString())
                    .put(
                        "kind",
                        new JsonObject().put("group", "").put("version", "v1").put("kind", "Pod"))
                    .put(
                        "resource",
                        new JsonObject()
                            .put("group", "")
                            .put("version", "v1")
                            .put("resource", "pods"))
                    .put("operation", "CREATE")
                    .put("namespace", ghostNamespace)
                    .put("name", "ghost")
                    .put("userInfo", new JsonObject().put("username", "system:anonymous"))
                    .put(
                        "object",
                        new JsonObject(
                            """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"ghost","namespace":"%s",
                 "labels":{"capgate.dev/inject":"true","capgate.dev/session":"ghost"}},
                 "spec":{"containers":[{"name":"agent","image":"capgate.local/agent:dev",
                 "securityContext":{"runAsUser":1000}}]}}"""
                                .formatted(ghostNamespace))))
            .encode();
    String cmd =
        "curl -sk --max-time 10 -o /tmp/review.out -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- "
            + url
            + "; echo; python3 -c 'import json; r=json.load(open(\"/tmp/review.out\")).get(\"response\",{});"
            + " print(\"allowed=%s patch=%s bytes\" % (r.get(\"allowed\"), len(r.get(\"patch\") or \"\")))' 2>&1";
    ProcessResult r =
        sandbox
            .kubectl()
            .run(
                review.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(30),
                "-n",
                lab.ns(),
                "exec",
                "-i",
                PEER,
                "-c",
                "agent",
                "--",
                "sh",
                "-c",
                cmd);
    EVIDENCE.command(
        c,
        "kubectl -n "
            + lab.ns()
            + " exec -i "
            + PEER
            + " -- sh -c \""
            + cmd
            + "\" <<< '<AdmissionReview for pod "
            + ghostNamespace
            + "/ghost>'",
        r);
    ProcessResult leftovers =
        lab.run(c, "-n", ghostNamespace, "get", "secrets,configmaps", "-o", "name");
    EVIDENCE.note(
        c,
        "objects the call left in "
            + ghostNamespace
            + ": "
            + leftovers.stdout().lines().filter(l -> l.contains("capgate-ca-")).toList());
    EVIDENCE.note(
        c,
        "this stack's CNI (the plain bridge plugin) does not enforce NetworkPolicy: the answer itself is "
            + "not judged here; the chart's NetworkPolicy is checked as an object, and what the call leaves behind "
            + "is checked after the orphaned-CA grace (last test)");
  }

  // --- (a) --------------------------------------------------------------------------------------

  @Test
  @Order(2)
  void a_rootAgentCannotBecomeTheSidecarsUid() {
    String c = "bypass (a)";
    int before = canary.hits().size();
    ProcessResult r =
        lab.create(
            c,
            lab.pod(
                "root-agent",
                lab.injectLabels(),
                "{}",
                """
        containers:
          - name: agent
            image: %s
            imagePullPolicy: Never
            securityContext: {runAsUser: 0}
        """
                    .formatted(BypassLab.AGENT_ROOT)));
    if (!r.success()) {
      // Refusing a root agent outright is a defence too; the message must say what to change.
      EVIDENCE.note(c, "refused at admission: " + BypassLab.refusal(r));
      assertThat(BypassLab.refusal(r)).contains("runAsUser");
      return;
    }
    lab.awaitReady("root-agent");
    Map<String, String> probe = lab.probe(c, "root-agent", "agent");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(probe.get("uid"))
        .as("the agent runs as root (the test's premise)")
        .isEqualTo("0");
    soft.assertThat(probe.get("setuid")).as("setuid(1447) as root").isEqualTo("EPERM");
    soft.assertThat(probe.get("uid_after")).as("uid after the attempt").isNotEqualTo("1447");
    soft.assertThat(probe.get("canary")).as("the canary outside the pod").isNotEqualTo("ACK");
    soft.assertThat(probe.get("vault")).as("Vault's API, directly").startsWith("not-reached");
    soft.assertThat(lab.hitsSince(before)).as("connections that reached the canary").isEmpty();
    soft.assertAll();
  }

  // --- (b) --------------------------------------------------------------------------------------

  @Test
  @Order(3)
  void b_podsWithoutAnExplicitSafeRunAsUserAreRefused() {
    SoftAssertions soft = new SoftAssertions();
    refusedOrEvidence(
        soft, "bypass (b) no runAsUser", "no-runasuser", BypassLab.AGENT, "{}", "runAsUser");
    refusedOrEvidence(
        soft, "bypass (b) image USER 1447", "image-1447", BypassLab.AGENT_1447, "{}", "runAsUser");
    refusedOrEvidence(
        soft,
        "bypass (b) runAsUser 1447",
        "runas-1447",
        BypassLab.AGENT,
        "{runAsUser: 1447}",
        "1447");
    soft.assertAll();
  }

  /**
   * Creates an injected agent pod; it must be refused naming {@code field}; if admitted, probes it.
   */
  private void refusedOrEvidence(
      SoftAssertions soft,
      String c,
      String name,
      String image,
      String securityContext,
      String field) {
    int before = canary.hits().size();
    ProcessResult r =
        lab.create(
            c,
            lab.pod(
                name,
                lab.injectLabels(),
                "{}",
                """
        containers:
          - name: agent
            image: %s
            imagePullPolicy: Never
            securityContext: %s
        """
                    .formatted(image, securityContext)));
    if (r.success()) {
      lab.awaitReady(name);
      Map<String, String> probe = lab.probe(c, name, "agent");
      soft.fail(
          "%s: admitted (uid %s, canary %s, Vault %s, canary connections %s)",
          c, probe.get("uid"), probe.get("canary"), probe.get("vault"), lab.hitsSince(before));
      return;
    }
    EVIDENCE.note(c, "refused: " + BypassLab.refusal(r));
    soft.assertThat(BypassLab.refusal(r))
        .as("%s: the refusal names the field", c)
        .contains(field)
        .containsPattern(DENIED);
  }

  // --- (c) --------------------------------------------------------------------------------------

  @Test
  @Order(4)
  void c_rootEphemeralContainerIsRefusedOrCannotBecomeTheSidecarsUid() throws IOException {
    String c = "bypass (c) ephemeral";
    Path custom = Files.createTempFile("debug-root", ".json");
    Files.writeString(custom, "{\"securityContext\":{\"runAsUser\":0}}");
    int before = canary.hits().size();
    // kubectl debug writes the pod's ephemeralcontainers subresource (what the webhook must judge).
    ProcessResult r =
        lab.run(
            c,
            "-n",
            lab.ns(),
            "debug",
            AgentSandbox.POD,
            "--image=" + BypassLab.AGENT_ROOT,
            "--image-pull-policy=Never",
            "--container=dbg-root",
            "--profile=legacy",
            "--custom=" + custom,
            "--",
            "sleep",
            "infinity");
    Files.deleteIfExists(custom);
    if (!r.success()) {
      EVIDENCE.note(c, "refused: " + BypassLab.refusal(r));
      assertThat(BypassLab.refusal(r))
          .containsPattern(DENIED)
          .containsAnyOf("dbg-root", "ephemeral");
      return;
    }
    String spec =
        lab.run(
                c,
                "-n",
                lab.ns(),
                "get",
                "pod",
                AgentSandbox.POD,
                "-o",
                "jsonpath={.spec.ephemeralContainers[?(@.name==\"dbg-root\")].securityContext}")
            .stdout();
    EVIDENCE.note(c, "admitted; its securityContext as stored: " + spec);
    lab.awaitJsonPath(
        AgentSandbox.POD,
        "{.status.ephemeralContainerStatuses[?(@.name==\"dbg-root\")].state.running}",
        "startedAt",
        Duration.ofSeconds(90));
    Map<String, String> probe = lab.probe(c, AgentSandbox.POD, "dbg-root");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(probe.get("setuid"))
        .as("setuid(1447) in a root ephemeral container")
        .isEqualTo("EPERM");
    soft.assertThat(probe.get("canary")).as("the canary").isNotEqualTo("ACK");
    soft.assertThat(probe.get("vault")).as("Vault directly").startsWith("not-reached");
    soft.assertThat(lab.hitsSince(before)).as("connections that reached the canary").isEmpty();
    soft.assertAll();
  }

  @Test
  @Order(5)
  void c_rootInitContainerIsRefusedOrCannotBecomeTheSidecarsUid() {
    String c = "bypass (c) init";
    int before = canary.hits().size();
    ProcessResult r =
        lab.create(
            c,
            lab.pod(
                "root-init",
                lab.injectLabels(),
                "{}",
                """
        volumes: [{name: probe, configMap: {name: %s}}]
        initContainers:
          - name: pre
            image: %s
            imagePullPolicy: Never
            securityContext: {runAsUser: 0}
            %s
            volumeMounts: [{name: probe, mountPath: /probe}]
        containers:
          - name: agent
            image: %s
            imagePullPolicy: Never
            securityContext: {runAsUser: 1000}
        """
                    .formatted(
                        BypassLab.PROBE_CONFIGMAP,
                        BypassLab.AGENT_ROOT,
                        lab.probeCommand(),
                        BypassLab.AGENT)));
    if (!r.success()) {
      EVIDENCE.note(c, "refused: " + BypassLab.refusal(r));
      assertThat(BypassLab.refusal(r)).containsPattern(DENIED).contains("runAsUser");
      return;
    }
    lab.awaitReady("root-init");
    ProcessResult logs = lab.run(c, "-n", lab.ns(), "logs", "root-init", "-c", "pre");
    EVIDENCE.canary(c, lab.hitsSince(before));
    Map<String, String> probe = EscapeProbe.parse(logs.stdout());
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(probe.get("uid"))
        .as("the init container runs as root (the premise)")
        .isEqualTo("0");
    soft.assertThat(probe.get("setuid"))
        .as("setuid(1447) in a root init container")
        .isEqualTo("EPERM");
    soft.assertThat(probe.get("canary")).as("the canary").isNotEqualTo("ACK");
    soft.assertThat(probe.get("vault")).as("Vault directly").startsWith("not-reached");
    soft.assertThat(lab.hitsSince(before)).as("connections that reached the canary").isEmpty();
    soft.assertAll();
  }

  // --- (d) --------------------------------------------------------------------------------------

  @Test
  @Order(6)
  void d_swappingTheAgentsImageForAUser1447ImageKeepsItsUid() {
    String c = "bypass (d)";
    String spec =
        """
        containers:
          - name: agent
            image: %s
            imagePullPolicy: Never
            securityContext: %s
        """;
    // The pod as admission lets it in: without runAsUser if it still may, else with an explicit
    // one.
    ProcessResult r =
        lab.create(
            c, lab.pod("swap", lab.injectLabels(), "{}", spec.formatted(BypassLab.AGENT, "{}")));
    String declared = "none";
    if (!r.success()) {
      EVIDENCE.note(
          c, "without runAsUser refused (" + BypassLab.refusal(r) + "); again with runAsUser 1000");
      lab.create(
              c,
              lab.pod(
                  "swap",
                  lab.injectLabels(),
                  "{}",
                  spec.formatted(BypassLab.AGENT, "{runAsUser: 1000}")))
          .orThrow();
      declared = "1000";
    }
    lab.awaitReady("swap");
    int before = canary.hits().size();
    ProcessResult swap =
        lab.run(c, "-n", lab.ns(), "set", "image", "pod/swap", "agent=" + BypassLab.AGENT_1447);
    if (!swap.success()) {
      EVIDENCE.note(c, "the image swap was refused: " + BypassLab.refusal(swap));
      assertThat(BypassLab.refusal(swap)).containsPattern(DENIED);
      return;
    }
    lab.awaitJsonPath(
        "swap",
        "{.status.containerStatuses[?(@.name==\"agent\")].image}",
        "agent-1447",
        Duration.ofSeconds(90));
    lab.awaitJsonPath(
        "swap",
        "{.status.containerStatuses[?(@.name==\"agent\")].state.running}",
        "startedAt",
        Duration.ofSeconds(90));
    lab.awaitReady("swap");
    String uid =
        lab.run(c, "-n", lab.ns(), "exec", "swap", "-c", "agent", "--", "id", "-u")
            .stdout()
            .strip();
    EVIDENCE.note(
        c,
        "after the swap to "
            + BypassLab.AGENT_1447
            + " the agent runs as uid "
            + uid
            + " (runAsUser: "
            + declared
            + ")");
    Map<String, String> probe = lab.probe(c, "swap", "agent");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(uid).as("uid of the swapped container").isNotEqualTo("1447");
    if (!"none".equals(declared)) {
      soft.assertThat(uid).as("the explicit runAsUser holds").isEqualTo(declared);
    }
    soft.assertThat(probe.get("canary")).as("the canary").isNotEqualTo("ACK");
    soft.assertThat(probe.get("vault")).as("Vault directly").startsWith("not-reached");
    soft.assertThat(lab.hitsSince(before)).as("connections that reached the canary").isEmpty();
    soft.assertAll();
  }

  // --- (e) --------------------------------------------------------------------------------------

  @Test
  @Order(7)
  void e_aPodForgedAsAlreadyInjectedIsRefused() {
    String c = "bypass (e)";
    int before = canary.hits().size();
    ProcessResult r =
        lab.create(
            c,
            lab.pod(
                "forged",
                lab.injectLabels(),
                "{capgate.dev/status: injected, capgate.dev/ca: capgate-ca-forged, capgate.dev/session: "
                    + sandbox.session()
                    + "}",
                """
        automountServiceAccountToken: false
        # What the webhook mounts into agent containers of a pod it believes injected.
        volumes: [{name: capgate-trust, emptyDir: {}}]
        initContainers:
          - name: capgate-init
            image: %1$s
            imagePullPolicy: Never
            command: ["true"]
            securityContext: {runAsUser: 1447, runAsGroup: 1447}
          - name: capgate-proxy
            image: %1$s
            imagePullPolicy: Never
            restartPolicy: Always
            command: [sleep, infinity]
            securityContext: {runAsUser: 1447, runAsGroup: 1447}
        containers:
          - name: agent
            image: %2$s
            imagePullPolicy: Never
            securityContext: {runAsUser: 1000}
        """
                    .formatted(BypassLab.SIDECAR, BypassLab.AGENT)));
    if (r.success()) {
      lab.awaitReady("forged");
      Map<String, String> probe = lab.probe(c, "forged", "agent");
      throw new AssertionError(
          "a pod forged as injected (no-op capgate-init, sleep as capgate-proxy) was admitted: canary "
              + probe.get("canary")
              + ", Vault "
              + probe.get("vault")
              + ", canary connections "
              + lab.hitsSince(before));
    }
    EVIDENCE.note(c, "refused: " + BypassLab.refusal(r));
    assertThat(BypassLab.refusal(r))
        .containsPattern(DENIED)
        .containsAnyOf("capgate-proxy", "capgate-init", "injected");
  }

  // --- (g) --------------------------------------------------------------------------------------

  @Test
  @Order(8)
  void g_aPlainPodWithTheAgentsServiceAccountGetsNothingFromVault() {
    String c = "bypass (g)";
    String thief =
        """
        automountServiceAccountToken: false
        volumes:
          - name: token
            projected:
              sources:
        %s
        containers:
          - name: agent
            image: %s
            imagePullPolicy: Never
            securityContext: {runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false}
            volumeMounts: [{name: token, mountPath: /var/run/thief, readOnly: true}]
        """;
    String vaultToken =
        "      - serviceAccountToken: {audience: vault, expirationSeconds: 3600, path: vault}";
    // Also a token for the operator's audience: what a sidecar presents to get its Vault token.
    String capgateToken =
        "      - serviceAccountToken: {audience: capgate, expirationSeconds: 3600, path: capgate}";
    ProcessResult created =
        lab.create(
            c,
            lab.pod(
                "sa-thief",
                "{capgate.dev/inject: \"false\"}",
                "{}",
                thief.formatted(vaultToken + "\n" + capgateToken, BypassLab.AGENT)));
    if (!created.success()) {
      EVIDENCE.note(
          c,
          "a plain pod may not hold a token for the operator's audience: "
              + BypassLab.refusal(created)
              + "; again with the vault audience only");
      lab.create(
              c,
              lab.pod(
                  "sa-thief",
                  "{capgate.dev/inject: \"false\"}",
                  "{}",
                  thief.formatted(vaultToken, BypassLab.AGENT)))
          .orThrow();
    }
    lab.awaitReady("sa-thief");
    // Statuses and key names only: a secret value or a token never leaves the pod (nor enters a
    // log).
    String script =
        """
        import json, os, ssl, urllib.request, urllib.error
        vault, role, path, operator = "%s", "%s", "%s", "%s"
        def call(url, method="GET", body=None, headers=None):
            req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                headers=headers or {})
            try:
                with urllib.request.urlopen(req, timeout=10, context=ssl._create_unverified_context()) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as e:
                try:
                    return e.code, json.load(e)
                except Exception:
                    return e.code, {}
            except Exception as e:
                return 0, {"errors": ["%%s: %%s" %% (type(e).__name__, e)]}
        jwt = open("/var/run/thief/vault").read().strip()
        tokens = {}
        for mount in ("kubernetes", "capgate-jwt"):
            status, body = call(vault + "/v1/auth/%%s/login" %% mount, "POST", {"role": role, "jwt": jwt})
            token = (body.get("auth") or {}).get("client_token")
            print("LOGIN %%s status=%%d token=%%s errors=%%s" %% (mount, status, "yes" if token else "no", body.get("errors")))
            if token:
                tokens[mount] = token
        if os.path.exists("/var/run/thief/capgate"):
            bearer = open("/var/run/thief/capgate").read().strip()
            status, body = call(operator + "/v1/vault-token", "POST", {}, {"Authorization": "Bearer " + bearer,
                "Content-Type": "application/json"})
            print("EXCHANGE status=%%d wrappingToken=%%s error=%%s" %% (status, "yes" if body.get("wrappingToken") else "no",
                body.get("error")))
            if body.get("wrappingToken"):
                s2, b2 = call(vault + "/v1/sys/wrapping/unwrap", "POST", {}, {"X-Vault-Token": body["wrappingToken"]})
                if (b2.get("auth") or {}).get("client_token"):
                    tokens["operator exchange"] = b2["auth"]["client_token"]
        for mount, token in list(tokens.items()) + [("(no token)", None)]:
            status, body = call(vault + "/v1/" + path, headers={"X-Vault-Token": token} if token else {})
            print("READ %%s with %%s status=%%d data_keys=%%s errors=%%s" %% (path, mount, status,
                sorted(((body.get("data") or {}).get("data") or {}).keys()), body.get("errors")))
        """
            .formatted(
                Stack.get().vaultAddress(),
                Stack.get().vaultRole(),
                ALICE_PATH,
                lab.operatorIdentityBase());
    ProcessResult r =
        sandbox
            .kubectl()
            .run(
                script.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(60),
                "-n",
                lab.ns(),
                "exec",
                "-i",
                "sa-thief",
                "-c",
                "agent",
                "--",
                "python3",
                "-");
    EVIDENCE.command(
        c,
        "kubectl -n "
            + lab.ns()
            + " exec -i sa-thief -- python3 - <<EOF\n"
            + script.strip()
            + "\nEOF",
        r);
    List<String> lines = r.stdout().lines().toList();
    assertThat(lines).as("the script ran: %s", r.stderr()).anyMatch(l -> l.startsWith("READ "));
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(lines.stream().filter(l -> l.startsWith("LOGIN ")))
        .as("no login with the agents' service-account token yields a Vault token")
        .allMatch(l -> l.contains("token=no"));
    soft.assertThat(lines.stream().filter(l -> l.startsWith("EXCHANGE ")))
        .as("the operator hands no Vault token to a pod that is not an attested sidecar")
        .allMatch(l -> l.contains("wrappingToken=no") && !l.contains("status=200"))
        // 404 would be the wrong port (the webhook's serves no /v1/vault-token): nothing attested.
        .noneMatch(l -> l.contains("status=404") || l.contains("status=0"));
    soft.assertThat(lines.stream().filter(l -> l.startsWith("READ ")))
        .as("Vault answers 403 to every read of alice's secret")
        .allMatch(l -> l.contains("status=403"));
    soft.assertAll();
  }

  // --- (h) --------------------------------------------------------------------------------------

  @Test
  @Order(9)
  void h_namingAnotherUserNeedsTheDelegatePermission() {
    String c = "bypass (h)";
    String carol = "carol@example.com";
    // carol may create, read and delete sessions in this namespace (what a team's RBAC grants), no
    // more.
    sandbox
        .kubectl()
        .apply(
            """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: session-author, namespace: %1$s}
        rules: [{apiGroups: [capgate.dev], resources: [agentsessions], verbs: [create, get, list, watch, delete]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: session-author-carol, namespace: %1$s}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: session-author}
        subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "%2$s"}]
        """
                .formatted(lab.ns(), carol));
    ProcessResult own = createSessionAs(c, carol, "carols-own", carol);
    ProcessResult other = createSessionAs(c, carol, "for-alice", "alice@example.com");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(own.exitCode())
        .as("carol's session for herself (control): %s", BypassLab.refusal(own))
        .isZero();
    soft.assertThat(other.success()).as("carol's session naming alice@example.com").isFalse();
    soft.assertThat(BypassLab.refusal(other))
        .as("the refusal")
        .contains("spec.user")
        .contains("delegate");
    soft.assertAll();
  }

  private ProcessResult createSessionAs(String c, String requester, String name, String user) {
    String yaml = Sessions.article(name).user(user).yaml();
    ProcessResult r =
        sandbox
            .kubectl()
            .run(
                yaml.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(60),
                "--as=" + requester,
                "-n",
                lab.ns(),
                "create",
                "-f",
                "-");
    EVIDENCE.command(
        c,
        "kubectl --as="
            + requester
            + " -n "
            + lab.ns()
            + " create -f - <<< '<AgentSession "
            + name
            + " with spec.user: "
            + user
            + ">'",
        r);
    return r;
  }

  // --- (j) --------------------------------------------------------------------------------------

  @Test
  @Order(10)
  void j_aPeerPodNeitherConnectsInToTheAgentNorReadsItsAdminPort() {
    String c = "bypass (j)";
    String agentIp = lab.podIp(AgentSandbox.POD);
    // The agent serves something on a port nobody declared; every accepted connection is written
    // down.
    String server =
        "import socket\n"
            + "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 18089)); s.listen(8)\n"
            + "while True:\n"
            + "    c, a = s.accept(); open('/tmp/inbound.log', 'a').write('accepted %s\\n' % (a,)); c.sendall(b'AGENT-DATA\\n'); c.close()\n";
    sandbox
        .kubectl()
        .run(
            server.getBytes(StandardCharsets.UTF_8),
            Duration.ofSeconds(30),
            "-n",
            lab.ns(),
            "exec",
            "-i",
            AgentSandbox.POD,
            "-c",
            "agent",
            "--",
            "sh",
            "-c",
            "cat > /tmp/serve.py; : > /tmp/inbound.log; "
                + "setsid nohup python3 /tmp/serve.py > /dev/null 2>&1 < /dev/null & sleep 1; echo started")
        .orThrow();
    String connect =
        "python3 -c \"import socket\ntry:\n s=socket.create_connection(('"
            + agentIp
            + "', 18089), timeout=5); "
            + "s.settimeout(5); print('INBOUND got %r' % s.recv(64))\nexcept Exception as e:\n print('INBOUND failed %s: %s' % "
            + "(type(e).__name__, e))\"";
    ProcessResult in =
        lab.run(c, "-n", lab.ns(), "exec", PEER, "-c", "agent", "--", "sh", "-c", connect);
    ProcessResult accepted =
        lab.run(
            c,
            "-n",
            lab.ns(),
            "exec",
            AgentSandbox.POD,
            "-c",
            "agent",
            "--",
            "cat",
            "/tmp/inbound.log");
    // One allowed call first, so that the sidecar's counters carry the rule's and credential's
    // names.
    lab.run(
        c,
        "-n",
        lab.ns(),
        "exec",
        AgentSandbox.POD,
        "-c",
        "agent",
        "--",
        "sh",
        "-c",
        "curl -s -o /dev/null -w '%{http_code}\\n' https://api.github.test/repos/acme/repo-a");
    ProcessResult admin =
        lab.run(
            c,
            "-n",
            lab.ns(),
            "exec",
            PEER,
            "-c",
            "agent",
            "--",
            "sh",
            "-c",
            "curl -s --max-time 5 -w '\\nHTTP %{http_code}\\n' http://"
                + agentIp
                + ":14021/metrics 2>&1 | tail -c 4000");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(in.stdout())
        .as("a peer's connection in to an undeclared port")
        .contains("INBOUND failed")
        .doesNotContain("AGENT-DATA");
    soft.assertThat(accepted.stdout())
        .as("connections the agent accepted from the peer")
        .doesNotContain("accepted");
    soft.assertThat(admin.stdout())
        .as("the admin port's /metrics from a peer pod")
        .doesNotContain("github-api")
        .doesNotContain("github-git")
        .doesNotContain("capgate_");
    soft.assertAll();
  }

  // --- (f): last of the pod cases, it may strip the sandbox pod's labels if it fails -------------

  @Test
  @Order(11)
  void f_capgatesLabelsDoNotChangeThroughUpdateOrStatus() {
    String c = "bypass (f)";
    String pod = AgentSandbox.POD;
    List<ProcessResult> attempts =
        List.of(
            lab.run(c, "-n", lab.ns(), "label", "pod", pod, "capgate.dev/inject-"),
            lab.run(
                c,
                "-n",
                lab.ns(),
                "label",
                "pod",
                pod,
                "capgate.dev/session=someone-elses",
                "--overwrite"),
            lab.run(
                c,
                "-n",
                lab.ns(),
                "patch",
                "pod",
                pod,
                "--subresource=status",
                "--type=merge",
                "-p",
                "{\"metadata\":{\"labels\":{\"capgate.dev/inject\":null}}}"),
            lab.run(
                c,
                "-n",
                lab.ns(),
                "patch",
                "pod",
                pod,
                "--subresource=status",
                "--type=merge",
                "-p",
                "{\"metadata\":{\"labels\":{\"capgate.dev/session\":\"someone-elses\"}}}"),
            lab.run(
                c,
                "-n",
                lab.ns(),
                "patch",
                "pod",
                pod,
                "--subresource=status",
                "--type=merge",
                "-p",
                "{\"metadata\":{\"annotations\":{\"capgate.dev/status\":null}}}"));
    String labels =
        lab.run(
                c,
                "-n",
                lab.ns(),
                "get",
                "pod",
                pod,
                "-o",
                "jsonpath={.metadata.labels}{\"\\n\"}{.metadata.annotations}")
            .stdout();
    SoftAssertions soft = new SoftAssertions();
    String[] what = {
      "UPDATE removing capgate.dev/inject",
      "UPDATE changing capgate.dev/session",
      "pods/status removing capgate.dev/inject",
      "pods/status changing capgate.dev/session",
      "pods/status removing the annotation capgate.dev/status"
    };
    String[] field = {
      "capgate.dev/inject",
      "capgate.dev/session",
      "capgate.dev/inject",
      "capgate.dev/session",
      "capgate.dev/status"
    };
    for (int i = 0; i < attempts.size(); i++) {
      soft.assertThat(attempts.get(i).success()).as(what[i]).isFalse();
      soft.assertThat(BypassLab.refusal(attempts.get(i)))
          .as(what[i] + ": the refusal names the field")
          .contains(field[i]);
    }
    soft.assertThat(labels)
        .as("the pod's labels and annotations afterwards")
        .contains("\"capgate.dev/inject\":\"true\"")
        .contains("\"capgate.dev/session\":\"" + sandbox.session() + "\"")
        .contains("\"capgate.dev/status\":\"injected\"");
    soft.assertAll();
  }

  // --- (i), the rest -----------------------------------------------------------------------------

  @Test
  @Order(12)
  void i_theChartFencesTheWebhookAndTheForgedCallLeftNothingBehind() {
    String c = "bypass (i)";
    Kubectl k = sandbox.kubectl();
    String system = Stack.get().systemNamespace();
    ProcessResult policies = lab.run(c, "-n", system, "get", "networkpolicy", "-o", "json");
    JsonArray items =
        policies.success()
            ? new JsonObject(policies.stdout()).getJsonArray("items")
            : new JsonArray();
    List<String> fencing =
        items.stream()
            .map(JsonObject.class::cast)
            .filter(
                p ->
                    p.getJsonObject("spec")
                        .getJsonArray("policyTypes", new JsonArray())
                        .contains("Ingress"))
            .map(p -> p.getJsonObject("metadata").getString("name"))
            .toList();
    EVIDENCE.note(
        c,
        "NetworkPolicies with Ingress rules in "
            + system
            + ": "
            + fencing
            + " (objects only: the stack's bridge CNI does not enforce them)");
    String grace =
        k.run(
                "-n",
                system,
                "get",
                "deploy",
                "-o",
                "jsonpath={.items[0].spec.template.spec.containers[0].env[?(@.name==\"CAPGATE_ORPHANED_CA_GRACE\")].value}")
            .stdout()
            .strip();
    Duration wait = parseGrace(grace).plusSeconds(60);
    long deadline = System.nanoTime() + wait.toNanos();
    List<String> left;
    do {
      left =
          k.run("-n", ghostNamespace, "get", "secrets,configmaps", "-o", "name")
              .stdout()
              .lines()
              .filter(l -> l.contains("capgate-ca-"))
              .toList();
      if (left.isEmpty()) {
        break;
      }
      AgentSandbox.sleep(5000);
    } while (System.nanoTime() < deadline);
    EVIDENCE.note(
        c,
        "capgate-ca-* objects left in "
            + ghostNamespace
            + " by the forged call (waited up to the orphaned-CA grace "
            + (grace.isEmpty() ? "2m (default)" : grace)
            + " + 60 s): "
            + left);
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(fencing)
        .as("a NetworkPolicy in %s limits who reaches the webhook", system)
        .isNotEmpty();
    soft.assertThat(left).as("objects a call without a pod leaves behind").isEmpty();
    soft.assertAll();
  }

  static Duration parseGrace(String grace) {
    if (grace.isBlank()) {
      return Duration.ofMinutes(2);
    }
    return Duration.parse("PT" + grace.toUpperCase(java.util.Locale.ROOT).replace("PT", ""));
  }
}
