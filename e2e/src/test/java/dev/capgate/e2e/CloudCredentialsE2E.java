package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.awsSigV4;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 15 on the real cluster: the agent image's own aws CLI v2 and boto3 (Debian's packages) in a
 * pod whose AWS keys are the webhook's placeholders, against the stack's s3proxy, which checks
 * every signature itself against the real keys (random per fresh stack, in OpenBao under alice's
 * path). The sidecar verifies the placeholder signature, judges the S3 operation (bucket-a only, no
 * delete) and re-signs with the real keys. Prints the two clients' rows of the client matrix.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CloudCredentialsE2E {
  /** The CLI 2.9 and botocore 1.29 predate AWS_ENDPOINT_URL (CLI 2.13): the endpoint is a flag. */
  static final String AWS = "aws --endpoint-url https://s3.test ";

  static final List<String> ACTIONS =
      List.of(
          "HeadBucket",
          "ListBucket",
          "GetObject",
          "HeadObject",
          "PutObject",
          "CreateMultipartUpload",
          "UploadPart",
          "CompleteMultipartUpload",
          "AbortMultipartUpload");

  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        .credential(awsSigV4("s3", "secret/data/aws/{{user}}", "us-east-1"))
        .egress(
            rule("bucket-a")
                .hosts("s3.test")
                .s3(ACTIONS, List.of("bucket-a"), null)
                .credential("s3"));
  }

  static AgentSandbox agent;
  static final List<ProcessResult> OUTPUTS = new ArrayList<>();
  static final Map<String, Map<String, String>> MATRIX = new LinkedHashMap<>();

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("cloud", session("cloud-credentials"));
    // Path-style (s3.test/bucket-a/...): the pod maps s3.test only, no virtual-hosted bucket names.
    ProcessResult config =
        sh(
            "mkdir -p ~/.aws && printf '[default]\\nregion = us-east-1\\ns3 =\\n"
                + "    addressing_style = path\\n' > ~/.aws/config && aws --version"
                + " && python3 -c 'import boto3, botocore; print(\"boto3\", boto3.__version__,"
                + " \"botocore\", botocore.__version__)'");
    assertThat(config.exitCode()).as(config.stdout() + config.stderr()).isZero();
    Transcript.note("aws clients in the agent image: " + config.stdout().strip());
  }

  @AfterAll
  static void stop() {
    if (agent == null) {
      return;
    }
    try {
      String table = table();
      System.out.println("\nAWS clients (agent pod, placeholder keys, s3proxy):\n\n" + table);
      Transcript.save("client-matrix-aws.md", table.getBytes(StandardCharsets.UTF_8));
    } finally {
      agent.close(); // the stack-wide secret sweep, the S3 keys included
    }
  }

  @Test
  @Order(1)
  void awsCliCopiesUpListsAndCopiesDown() {
    ProcessResult r =
        sh(
            "head -c 200000 /dev/urandom > /tmp/small.bin && "
                + AWS
                + "s3 cp /tmp/small.bin s3://bucket-a/dir/small.bin && "
                + AWS
                + "s3 ls s3://bucket-a/dir/ && "
                + AWS
                + "s3 cp s3://bucket-a/dir/small.bin /tmp/small.down && "
                + "sha256sum /tmp/small.bin /tmp/small.down | cut -c1-64 | uniq | wc -l");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
    assertThat(r.stdout()).contains("small.bin").contains("200000");
    assertThat(r.stdout().strip()).as("one checksum for both files").endsWith("1");
    cell("aws CLI", "cp up, ls, cp down", "✓ 200 kB, same SHA-256");
    JsonObject line = auditLine("/bucket-a/dir/small.bin", "PUT");
    assertThat(line.getString("decision")).isEqualTo("allow");
  }

  @Test
  @Order(2)
  void awsCliMultipartUploadOfNineMib() {
    ProcessResult r =
        sh(
            "head -c 9437201 /dev/urandom > /tmp/big.bin && "
                + AWS
                + "s3 cp /tmp/big.bin s3://bucket-a/big.bin && "
                + AWS
                + "s3 cp s3://bucket-a/big.bin /tmp/big.down && "
                + "sha256sum /tmp/big.bin /tmp/big.down | cut -c1-64 | uniq | wc -l");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
    assertThat(r.stdout().strip()).endsWith("1");
    // CreateMultipartUpload (POST ?uploads), UploadPart (PUT, one per 8 MiB part), Complete
    // (POST ?uploadId): each signed by the agent, verified and re-signed by the sidecar.
    List<String> methods =
        auditLines().stream()
            .filter(a -> "/bucket-a/big.bin".equals(a.getString("path")))
            .map(a -> a.getString("method"))
            .toList();
    assertThat(methods).contains("POST", "PUT");
    assertThat(methods.stream().filter("PUT"::equals).count()).isGreaterThanOrEqualTo(2);
    cell(
        "aws CLI",
        "multipart",
        "✓ 9 MiB: %d requests (%s)".formatted(methods.size(), String.join(" ", methods)));
  }

  @Test
  @Order(3)
  void boto3PutsListsAndGets() {
    ProcessResult r =
        sh(
            "python3 -c '"
                + """
                import boto3
                s3 = boto3.client("s3", endpoint_url="https://s3.test")
                s3.put_object(Bucket="bucket-a", Key="boto3.txt", Body=b"hello from boto3")
                print(s3.get_object(Bucket="bucket-a", Key="boto3.txt")["Body"].read().decode())
                print(sorted(o["Key"] for o in s3.list_objects_v2(Bucket="bucket-a")["Contents"]))
                try:
                    s3.get_object(Bucket="bucket-b", Key="secret.txt")
                    print("bucket-b READ")
                except Exception as e:
                    print("bucket-b refused:", e)
                """
                + "'");
    assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
    assertThat(r.stdout()).contains("hello from boto3").contains("'boto3.txt'");
    assertThat(r.stdout()).contains("bucket-b refused").contains("403").doesNotContain("READ");
    cell("boto3", "put, list, get", "✓ put_object, list_objects_v2, get_object");
    cell("boto3", "denied bucket", "✓ " + pick(r.stdout(), "bucket-b refused: "));
  }

  @Test
  @Order(10)
  void aBucketThePolicyDoesNotNameIsRefusedBeforeS3() {
    ProcessResult ls = sh(AWS + "s3 ls s3://bucket-b/ 2>&1");
    assertThat(ls.exitCode()).isNotZero();
    assertThat(ls.stdout()).contains("403");
    ProcessResult get = sh(AWS + "s3 cp s3://bucket-b/secret.txt /tmp/stolen.txt 2>&1");
    assertThat(get.exitCode()).isNotZero();
    ProcessResult put =
        sh("echo x > /tmp/x.txt && " + AWS + "s3 cp /tmp/x.txt s3://bucket-b/x.txt 2>&1");
    assertThat(put.exitCode()).isNotZero();
    assertThat(put.stdout()).contains("403");
    JsonObject line = auditLine("/bucket-b/x.txt", "PUT");
    assertThat(line.getString("decision")).isEqualTo("deny");
    Path blobs = blobs();
    if (blobs != null) { // the local stack's s3proxy runs on this machine
      assertThat(blobs.resolve("bucket-b/x.txt")).doesNotExist();
      assertThat(blobs.resolve("bucket-b/secret.txt")).exists();
    }
    cell("aws CLI", "denied bucket", "✓ " + pick(ls.stdout(), "An error occurred"));
  }

  @Test
  @Order(11)
  void aDeleteThePolicyDoesNotAllowIsRefusedAndTheObjectStays() {
    ProcessResult rm =
        sh(
            "echo keep > /tmp/keep.txt && "
                + AWS
                + "s3 cp /tmp/keep.txt s3://bucket-a/keep.txt && "
                + AWS
                + "s3 rm s3://bucket-a/keep.txt 2>&1");
    assertThat(rm.exitCode()).isNotZero();
    assertThat(rm.stdout()).contains("403");
    ProcessResult ls = sh(AWS + "s3 ls s3://bucket-a/keep.txt");
    assertThat(ls.stdout()).contains("keep.txt");
    JsonObject line = auditLine("/bucket-a/keep.txt", "DELETE");
    assertThat(line.getString("decision")).isEqualTo("deny");
    cell("aws CLI", "denied delete", "✓ " + pick(rm.stdout(), "delete failed: "));
  }

  @Test
  @Order(20)
  void theAgentHoldsOnlyPlaceholderKeys() {
    ProcessResult env = sh("env | grep '^AWS_' | sort");
    assertThat(env.stdout())
        .containsPattern("AWS_ACCESS_KEY_ID=AKIA[A-Z2-7]{16}\n")
        .containsPattern("AWS_SECRET_ACCESS_KEY=capgate-ph-s3-[a-z2-7]{32}\n")
        .contains("AWS_CA_BUNDLE=/etc/capgate/trust/ca-bundle.pem");
    // Everything the agent can read of its own: environment, files, the clients' caches.
    ProcessResult files =
        sh(
            "cat /proc/self/environ; cat ~/.aws/* 2>/dev/null; ls -la /etc/capgate/trust;"
                + " find ~ /tmp -type f -size -2M -exec cat {} + 2>/dev/null | wc -c");
    assertThat(files.exitCode()).isZero();
    List<String> leaks = new ArrayList<>();
    for (ProcessResult r : OUTPUTS) {
      leaks.addAll(
          SecretSweep.findingsIn(
              Stack.get(),
              "agent output",
              (r.stdout() + r.stderr()).getBytes(StandardCharsets.UTF_8)));
    }
    ProcessResult grep =
        agent
            .kubectl()
            .shWithInput(
                agent.namespace(),
                AgentSandbox.POD,
                String.join("\n", Stack.get().secretValues()).getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(60),
                // The values on stdin, never on a command line: grep the agent's files for them.
                "cat > /tmp/.needles && n=$(grep -rlFf /tmp/.needles ~ /tmp /etc/capgate 2>/dev/null"
                    + " | grep -v '^/tmp/.needles$' | wc -l); rm -f /tmp/.needles; echo files=$n");
    assertThat(grep.stdout()).contains("files=0");
    assertThat(leaks).as("secret values in the agent's outputs").isEmpty();
  }

  // --- helpers --------------------------------------------------------------------------------

  private static ProcessResult sh(String script) {
    ProcessResult r =
        agent
            .kubectl()
            .shWithInput(
                agent.namespace(), AgentSandbox.POD, new byte[0], Duration.ofSeconds(240), script);
    System.out.println("$ " + script + "\n" + r.stdout() + r.stderr());
    OUTPUTS.add(r);
    return r;
  }

  private static List<JsonObject> auditLines() {
    List<JsonObject> lines = new ArrayList<>();
    for (String l : agent.sidecarLog().split("\n")) {
      if (l.startsWith("{") && l.contains("\"decision\"")) {
        try {
          lines.add(new JsonObject(l));
        } catch (RuntimeException notJson) {
          // a log line that merely starts with a brace
        }
      }
    }
    return lines;
  }

  /** The sidecar's audit line for {@code method path}, waiting a moment for it to be written. */
  private static JsonObject auditLine(String path, String method) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      for (JsonObject a : auditLines()) {
        if (path.equals(a.getString("path")) && method.equals(a.getString("method"))) {
          return a;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no audit line for " + method + " " + path);
      }
      AgentSandbox.sleep(300);
    }
  }

  private static Path blobs() {
    String dir = Stack.get().valueOr("CAPGATE_E2E_S3_BLOBS", "");
    return !dir.isEmpty() && Files.isDirectory(Path.of(dir)) ? Path.of(dir) : null;
  }

  private static void cell(String client, String column, String note) {
    MATRIX.computeIfAbsent(client, c -> new LinkedHashMap<>()).put(column, note);
  }

  /** The client's own words from {@code from} to the end of that line, clipped. */
  private static String pick(String out, String from) {
    int i = out.indexOf(from);
    if (i < 0) {
      return "";
    }
    String line = out.substring(i).split("\n", 2)[0].strip().replace("|", "\\|");
    return line.length() > 150 ? line.substring(0, 150) + "…" : line;
  }

  static String table() {
    StringBuilder t = new StringBuilder("| client | what | result |\n| --- | --- | --- |\n");
    MATRIX.forEach(
        (client, cells) ->
            cells.forEach(
                (what, note) ->
                    t.append("| ")
                        .append(client)
                        .append(" | ")
                        .append(what)
                        .append(" | ")
                        .append(note)
                        .append(" |\n")));
    return t.toString();
  }
}
