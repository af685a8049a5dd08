package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.PlaceholderFormat;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.S3ProxyServer;
import dev.capgate.testkit.Tools;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * AWS Signature V4 re-signing (issue 15) on real components: the real aws CLI and boto3 in the pod
 * hold only the placeholder keys the webhook would set (AWS_ACCESS_KEY_ID derived from the
 * placeholder secret key in AWS_SECRET_ACCESS_KEY); the real keys live in OpenBao; the upstream is
 * s3proxy, which verifies every signature itself against the real keys only. So a request that
 * reaches s3proxy and succeeds was re-signed by the sidecar, and the real keys never reached the
 * agent (swept from every log and every output at the end).
 *
 * <p>Policy: bucket-a only (path-style, {@code /bucket-a/**}), and no DELETE. The agent runs as
 * root in the pod (the aws venv lives in root's tools cache); its traffic is intercepted all the
 * same.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AwsSigV4IT {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String REAL_KEY_ID = "AKIA" + upper(16);
  private static final String REAL_SECRET = HexFormat.of().formatHex(RANDOM.generateSeed(20));
  private static final String PLACEHOLDER = PlaceholderFormat.generate("s3");
  private static final String ENDPOINT = "https://s3.test:9443";

  @AutoClose private static PodNetns pod;
  private static Path work;
  private static Path blobs;
  private static Map<String, String> agentEnv;
  private static final List<Command.Result> AGENT_OUTPUTS = new ArrayList<>();

  private static String upper(int n) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return s.toString();
  }

  @BeforeAll
  static void startPod() throws IOException {
    Path aws = Tools.aws("aws"); // fails loudly, saying make tools, before anything starts
    Path lib = S3ProxyServer.lib();
    assertThat(lib).isDirectory();
    assertThat(aws).isExecutable();

    VaultKv vault =
        new VaultKv()
            .put("aws", Map.of("access_key", REAL_KEY_ID, "secret_key", REAL_SECRET, "x", "y"));
    pod = DataPlanePod.start("AwsSigV4IT", vault.address());
    Path s3dir = pod.dir().resolve("s3proxy");
    Path properties =
        S3ProxyServer.configure(
            s3dir,
            "198.18.0.2",
            9443,
            pod.issueUpstreamServer("s3.test"),
            REAL_KEY_ID,
            REAL_SECRET);
    blobs = s3dir.resolve("blobs");
    // A bucket the policy does not allow: there, and never reached.
    Files.createDirectories(blobs.resolve("bucket-b"));
    pod.startInPeer(
        "s3proxy/s3proxy.out",
        S3ProxyServer.READY_LINE,
        S3ProxyServer.command(properties).toArray(String[]::new));

    Path placeholders =
        pod.writeSidecarFile("placeholders.json", new JsonObject().put("s3", PLACEHOLDER).encode());
    pod.startSidecar(
        SessionSpecs.session("aws")
            .credential(AgentSessionBuilder.awsSigV4("s3", vault.path("aws"), "us-east-1").build())
            .egress(
                rule("bucket-a")
                    .hosts("s3.test")
                    .ports(9443)
                    .s3(
                        List.of(
                            "CreateBucket",
                            "HeadBucket",
                            "ListBucket",
                            "GetObject",
                            "HeadObject",
                            "PutObject",
                            "CreateMultipartUpload",
                            "UploadPart",
                            "CompleteMultipartUpload",
                            "AbortMultipartUpload"),
                        List.of("bucket-a"),
                        null)
                    .credential("s3"))
            .json(),
        vault.readerToken(),
        List.of("--placeholders-file", placeholders.toString()));

    work = pod.dir().resolve("agent-files");
    Files.createDirectories(work);
    agentEnv = new HashMap<>();
    agentEnv.put("HOME", work.toString());
    agentEnv.put("AWS_ACCESS_KEY_ID", PlaceholderFormat.awsAccessKeyId(PLACEHOLDER));
    agentEnv.put("AWS_SECRET_ACCESS_KEY", PLACEHOLDER);
    agentEnv.put("AWS_DEFAULT_REGION", "us-east-1");
    agentEnv.put("AWS_CA_BUNDLE", pod.podCaCert().toString());
    agentEnv.put("AWS_EC2_METADATA_DISABLED", "true");
    // s3proxy 2.6.0 implements neither the flexible checksums (x-amz-checksum-*: NotImplemented)
    // nor aws-chunked bodies with trailing checksums, which botocore 1.36+ sends by default; it
    // refuses them with the aws CLI talking to it directly too. The sidecar passes them unchanged.
    agentEnv.put("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required");
    agentEnv.put("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required"); // x-amz-checksum-mode
    Command.Result mb = aws("s3", "mb", "s3://bucket-a");
    assertThat(mb.exitCode()).as(mb.all()).isZero();
  }

  static Command.Result aws(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Tools.aws("aws").toString());
    command.add("--endpoint-url");
    command.add(ENDPOINT);
    command.addAll(List.of(args));
    Command.Result r =
        pod.asRootInPod(agentEnv, Duration.ofSeconds(120), command.toArray(String[]::new));
    AGENT_OUTPUTS.add(r);
    return r;
  }

  static Command.Result python(String program) {
    Command.Result r =
        pod.asRootInPod(
            agentEnv, Duration.ofSeconds(120), Tools.aws("python").toString(), "-c", program);
    AGENT_OUTPUTS.add(r);
    return r;
  }

  /**
   * curl in the pod without the agent's AWS env, trusting the pod CA; stdout ends in the status.
   */
  static Command.Result curl(String url, String... options) {
    List<String> command = new ArrayList<>();
    command.addAll(List.of("curl", "-sS", "--cacert", pod.podCaCert().toString()));
    command.addAll(List.of(options));
    command.addAll(List.of("-w", "\\n%{http_code}", url));
    Command.Result r =
        pod.asRootInPod(Map.of(), Duration.ofSeconds(30), command.toArray(String[]::new));
    AGENT_OUTPUTS.add(r);
    return r;
  }

  static Path file(String name, int bytes) throws IOException {
    byte[] data = new byte[bytes];
    RANDOM.nextBytes(data);
    Path f = work.resolve(name);
    Files.write(f, data);
    return f;
  }

  static String sha256(Path f) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
  }

  @Test
  @Order(1)
  void aws_s3_cp_uploads_lists_and_downloads_through_the_resigning_sidecar() throws Exception {
    Path up = file("small.bin", 200_000);
    Command.Result put = aws("s3", "cp", up.toString(), "s3://bucket-a/dir/small.bin");
    assertThat(put.exitCode()).as(put.all()).isZero();
    assertThat(blobs.resolve("bucket-a/dir/small.bin")).exists();

    Command.Result ls = aws("s3", "ls", "s3://bucket-a/dir/");
    assertThat(ls.exitCode()).as(ls.all()).isZero();
    assertThat(ls.stdout()).contains("small.bin").contains("200000");

    Path down = work.resolve("small.down");
    Command.Result get = aws("s3", "cp", "s3://bucket-a/dir/small.bin", down.toString());
    assertThat(get.exitCode()).as(get.all()).isZero();
    assertThat(sha256(down)).isEqualTo(sha256(up));

    JsonObject audit = AuditLines.awaitPath(pod, "/bucket-a/dir/small.bin");
    assertThat(audit.encode()).contains("bucket-a");
  }

  @Test
  @Order(2)
  void a_multipart_upload_of_more_than_8_mib_goes_through_part_by_part() throws Exception {
    Path big = file("big.bin", 9 * 1024 * 1024 + 17);
    Command.Result put = aws("s3", "cp", big.toString(), "s3://bucket-a/big.bin");
    assertThat(put.exitCode()).as(put.all()).isZero();
    Path down = work.resolve("big.down");
    Command.Result get = aws("s3", "cp", "s3://bucket-a/big.bin", down.toString());
    assertThat(get.exitCode()).as(get.all()).isZero();
    assertThat(sha256(down)).isEqualTo(sha256(big));
    // The CLI split it: CreateMultipartUpload (POST ?uploads), UploadPart (PUT ?partNumber=...)
    // and CompleteMultipartUpload, each signed by the agent and re-signed by the sidecar.
    List<String> big3 =
        AuditLines.all(pod).stream()
            .filter(a -> "/bucket-a/big.bin".equals(a.getString("path")))
            .map(a -> a.getString("method"))
            .toList();
    assertThat(big3).contains("POST", "PUT");
    assertThat(big3.stream().filter("PUT"::equals).count()).isGreaterThanOrEqualTo(2);
  }

  @Test
  @Order(3)
  void boto3_puts_and_gets_an_object() {
    Command.Result r =
        python(
            """
            import boto3
            s3 = boto3.client('s3', endpoint_url='%s')
            s3.put_object(Bucket='bucket-a', Key='boto3.txt', Body=b'hello from boto3')
            print(s3.get_object(Bucket='bucket-a', Key='boto3.txt')['Body'].read().decode())
            print(sorted(o['Key'] for o in s3.list_objects_v2(Bucket='bucket-a')['Contents']))
            """
                .formatted(ENDPOINT));
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.stdout()).contains("hello from boto3").contains("'boto3.txt'");
  }

  @Test
  @Order(10)
  void a_bucket_policy_does_not_allow_is_refused_and_never_reached() throws Exception {
    Path up = file("other.bin", 1000);
    Command.Result put = aws("s3", "cp", up.toString(), "s3://bucket-b/other.bin");
    assertThat(put.exitCode()).as(put.all()).isNotZero();
    assertThat(put.stderr()).contains("403");
    assertThat(blobs.resolve("bucket-b/other.bin")).doesNotExist();
    Command.Result ls = aws("s3", "ls", "s3://bucket-b/");
    assertThat(ls.exitCode()).isNotZero();
    JsonObject audit = AuditLines.awaitPath(pod, "/bucket-b/other.bin");
    assertThat(audit.getString("decision")).isEqualTo("deny");
  }

  @Test
  @Order(11)
  void a_delete_policy_does_not_allow_is_refused_and_the_object_stays() throws Exception {
    Path up = file("keep.bin", 1000);
    assertThat(aws("s3", "cp", up.toString(), "s3://bucket-a/keep.bin").exitCode()).isZero();
    Command.Result rm = aws("s3", "rm", "s3://bucket-a/keep.bin");
    assertThat(rm.exitCode()).as(rm.all()).isNotZero();
    assertThat(rm.stderr()).contains("403");
    assertThat(blobs.resolve("bucket-a/keep.bin")).exists();
  }

  @Test
  @Order(13)
  void a_copy_reads_its_source_only_from_a_bucket_the_rule_allows() throws Exception {
    Path up = file("copy-me.bin", 1000);
    assertThat(aws("s3", "cp", up.toString(), "s3://bucket-a/copy-me.bin").exitCode()).isZero();
    Command.Result inside =
        aws("s3", "cp", "s3://bucket-a/copy-me.bin", "s3://bucket-a/copied.bin");
    assertThat(inside.exitCode()).as(inside.all()).isZero();
    assertThat(blobs.resolve("bucket-a/copied.bin")).exists();

    Files.writeString(blobs.resolve("bucket-b/secret.txt"), "not for the agent");
    // s3api: the CopyObject itself (aws s3 cp would first HEAD the source, refused on its own).
    Command.Result across =
        aws(
            "s3api",
            "copy-object",
            "--copy-source",
            "bucket-b/secret.txt",
            "--bucket",
            "bucket-a",
            "--key",
            "stolen.txt");
    assertThat(across.exitCode()).as(across.all()).isNotZero();
    assertThat(across.stderr()).contains("403");
    assertThat(blobs.resolve("bucket-a/stolen.txt")).doesNotExist();
    JsonObject audit = AuditLines.awaitPath(pod, "/bucket-a/stolen.txt");
    assertThat(audit.getString("decision")).isEqualTo("deny");
    assertThat(audit.getString("reason")).contains("x-amz-copy-source");
  }

  @Test
  @Order(12)
  void a_request_signed_with_another_secret_is_refused_with_a_signature_mismatch() {
    // curl signs SigV4 itself: the placeholder key id, but not the placeholder secret key.
    Command.Result r =
        curl(
            ENDPOINT + "/bucket-a/dir/small.bin",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            "--user",
            PlaceholderFormat.awsAccessKeyId(PLACEHOLDER) + ":not-the-placeholder",
            "-H",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    assertThat(r.stdout()).as(r.all()).endsWith("403");
    assertThat(r.stdout()).contains("aws-signature-mismatch").contains("aws-signature-refused");
    Command.Result presigned =
        curl(
            ENDPOINT
                + "/bucket-a/dir/small.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00");
    assertThat(presigned.stdout()).as(presigned.all()).endsWith("403");
    assertThat(presigned.stdout()).contains("aws-presigned-url-refused");
  }

  /** The real keys are in no log, no agent output and no file the agent has. */
  @AfterAll
  static void the_real_keys_never_reach_the_agent_or_a_log() throws IOException {
    if (pod == null) {
      return;
    }
    List<String> real = List.of(REAL_SECRET, REAL_KEY_ID);
    for (Command.Result r : AGENT_OUTPUTS) {
      for (String v : real) {
        assertThat(r.all()).as("agent output of " + r.command()).doesNotContain(v);
      }
    }
    for (Path log : pod.logFiles()) {
      if (log.startsWith(pod.dir().resolve("s3proxy"))) {
        continue; // the upstream: it holds the real keys by design
      }
      String text = Files.readString(log);
      for (String v : real) {
        assertThat(text).as(log + " holds a real AWS key").doesNotContain(v);
      }
    }
    try (var files = Files.walk(work)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String text =
            new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(text).as(f.toString()).doesNotContain(REAL_SECRET);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
