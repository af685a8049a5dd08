package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.bearer;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static dev.capgate.sidecar.dataplane.UpstreamLog.headerValues;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 11, response scrubbing gaps, on real components: the upstream (see {@code EchoForms}) hands
 * the injected credential back compressed although asked not to, percent-encoded, JSON-escaped, in
 * unpadded URL-safe base64, in the reason phrase, and on a route whose rule injects nothing. Every
 * byte the agent receives is searched for the value and all those forms.
 *
 * <p>Every test makes the traffic it checks; {@code @Order} only orders the report. The sweep of
 * every log for the forms runs once after the last test, over the whole run ({@link
 * #no_log_line_of_the_run_contains_the_secret}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResponseScrubbingIT {
  /**
   * With the characters URL and JSON encoders rewrite, so that each form differs from the value.
   */
  private static final String SECRET =
      "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12)) + "/Ab+Cd=e";

  private static final String USER = "alice@example.com";

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static String ca;

  @BeforeAll
  static void startPod() {
    VaultKv vault = new VaultKv().put("github/" + USER, "token", SECRET);
    pod = DataPlanePod.start("ResponseScrubbingIT", vault.address());
    pod.startSidecar(
        SessionSpecs.session("scrubbing")
            .user(USER)
            .credential(bearer("github", vault.path("github/{{user}}"), "token"))
            .egress(
                rule("echo-with-credential")
                    .hosts("api.github.test")
                    .methods(GET)
                    .paths("/inject/**")
                    .credential("github"),
                rule("public").hosts("api.github.test").methods(GET).paths("/public/**"))
            .json(),
        vault.readerToken(),
        List.of());
    ca = pod.podCaCert().toString();
  }

  @Test
  @Order(1)
  void a_gzip_echo_sent_despite_accept_encoding_identity_is_decoded_and_masked() {
    for (String http : List.of("--http1.1", "--http2")) {
      // No --compressed: the bytes printed are the bytes the sidecar sent.
      Command.Result r =
          curl(
              http,
              "-D",
              "-",
              "-H",
              "Accept-Encoding: gzip, br",
              "https://api.github.test/inject/forms/gzip");
      assertThat(r.stdout())
          .as(r.all())
          .contains("Bearer *****")
          .doesNotContainIgnoringCase("content-encoding");
      assertNoForm(r);
    }
    JsonObject saw = UpstreamLog.lastRequest(pod, "/inject/forms/gzip");
    assertThat(headerValues(saw, "accept-encoding")).containsExactly("identity");
  }

  @Test
  @Order(2)
  void a_deflate_echo_is_decoded_and_masked() {
    Command.Result r = curl("https://api.github.test/inject/forms/deflate");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(r.stdout()).contains("Bearer *****");
    assertNoForm(r);
  }

  @Test
  @Order(3)
  void a_brotli_body_the_sidecar_cannot_scan_is_a_502_not_passed_on() {
    Command.Result r = curl("https://api.github.test/inject/forms/br");
    assertThat(status(r)).as(r.all()).isEqualTo(502);
    assertThat(new JsonObject(body(r)).getString("error"))
        .isEqualTo("unscannable-response-encoding");
    assertNoForm(r);
    // The audit writer thread formats the line after the answer has left.
    await("the audit line of the refused body")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(pod.log("sidecar.log"))
                    .contains("unscannable-response-encoding: Content-Encoding br"));
  }

  @Test
  @Order(4)
  void percent_encoded_forms_in_body_and_headers_are_masked() {
    Command.Result r = curl("-D", "-", "https://api.github.test/inject/forms/url");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(r.stdout()).contains("token=*****", "t=*****");
    assertNoForm(r);
  }

  @Test
  @Order(5)
  void json_escaped_forms_are_masked() {
    Command.Result r = curl("https://api.github.test/inject/forms/json");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(new JsonObject(body(r)).getString("slashes")).matches("\\*+");
    assertNoForm(r);
  }

  @Test
  @Order(6)
  void unpadded_url_safe_base64_alone_and_inside_a_longer_text_is_masked() {
    Command.Result r = curl("https://api.github.test/inject/forms/base64");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject echoed = new JsonObject(body(r));
    assertThat(echoed.getString("token")).matches("\\*+");
    String request = echoed.getString("request");
    assertThat(request).contains("*****");
    assertNoForm(r);
  }

  @Test
  @Order(7)
  void the_reason_phrase_is_masked() {
    Command.Result r = curl("--http1.1", "-D", "-", "https://api.github.test/inject/forms/reason");
    assertThat(status(r)).as(r.all()).isEqualTo(401);
    assertThat(r.stdout().lines().findFirst().orElseThrow())
        .startsWith("HTTP/1.1 401 Token ****")
        .endsWith(" rejected");
    assertNoForm(r);
  }

  @Test
  @Order(8)
  void an_exchange_whose_rule_injects_nothing_is_scrubbed_for_the_values_the_sidecar_holds() {
    assertThat(status(curl("https://api.github.test/inject/forms/json")))
        .isEqualTo(200); // the upstream stores it
    Command.Result r = curl("-D", "-", "https://api.github.test/public/forms/stored");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(headerValues(UpstreamLog.lastRequest(pod, "/public/forms/stored"), "authorization"))
        .isEmpty();
    assertThat(r.stdout()).contains("Bearer *****");
    assertNoForm(r);
  }

  /**
   * The sweep over the whole run, after the last test whichever ran: no log holds the value or any
   * of its forms, after an echo of its own that injects the credential ({@link PodLogs#sweep}).
   */
  @AfterAll
  static void no_log_line_of_the_run_contains_the_secret() {
    PodLogs.sweep(
        pod,
        () -> {
          Command.Result r = curl("https://api.github.test/inject/after-all-sweep/forms/json");
          assertThat(status(r)).as(r.all()).isEqualTo(200);
          assertNoForm(r);
        },
        "/inject/after-all-sweep/forms/json",
        forms());
  }

  // ------------------------------------------------------------------ helpers

  private static Command.Result curl(String... args) {
    return AgentCurl.trusting(pod, ca, args);
  }

  /** The value and the forms the upstream writes it in (and a few more common ones). */
  private static List<String> forms() {
    List<String> forms = new ArrayList<>();
    for (String s : List.of(SECRET, "Bearer " + SECRET)) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      forms.addAll(
          List.of(
              s,
              URLEncoder.encode(s, StandardCharsets.UTF_8),
              s.replace("/", "\\/"),
              Base64.getEncoder().encodeToString(utf8),
              Base64.getUrlEncoder().encodeToString(utf8),
              Base64.getUrlEncoder().withoutPadding().encodeToString(utf8)));
      StringBuilder escaped = new StringBuilder();
      for (char c : s.toCharArray()) {
        escaped.append(
            Character.isLetterOrDigit(c) ? String.valueOf(c) : String.format("\\u%04x", (int) c));
      }
      forms.add(escaped.toString());
    }
    forms.add(
        SECRET.substring(
            0, SECRET.indexOf('/'))); // even the part before the first special character
    return forms;
  }

  private static void assertNoForm(Command.Result r) {
    for (String form : forms()) {
      assertThat(r.stdout()).as("the agent received " + form + "\n" + r.all()).doesNotContain(form);
    }
  }
}
