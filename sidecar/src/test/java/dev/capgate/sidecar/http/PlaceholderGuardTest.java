package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.credentials.PlaceholderLeak;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.policy.NormalizedRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlaceholderGuardTest {
  private static final String GH = "capgate-ph-github-abcdefghijklmnopqrstuvwxyz234567";
  private static final String KEY = "capgate-ph-apikey-2222abcdefghijklmnopqrstuvwxyz77";
  private static final PlaceholderGuard GUARD =
      new PlaceholderGuard(Placeholders.of(Map.of("github", GH, "apikey", KEY)));
  private static final NormalizedRequest GET = request("/repos/acme/repo-a", null);

  private static NormalizedRequest request(String path, String query) {
    return new NormalizedRequest(
        "GET",
        "api.github.test",
        443,
        path,
        query == null ? path : path + "?" + query,
        query,
        true);
  }

  private static String basic(String userAndPassword) {
    return "Basic "
        + Base64.getEncoder().encodeToString(userAndPassword.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void the_placeholder_of_a_credential_the_route_injects_may_sit_in_any_header() {
    HttpHeaders headers =
        new DefaultHttpHeaders()
            .add("Authorization", "token " + GH)
            .add("X-GitHub-Token", GH)
            .add("Proxy-Authorization", basic("x-access-token:" + GH));
    assertThat(GUARD.inspect(headers, GET, List.of("github"))).isNull();
  }

  @Test
  void and_is_replaced_by_the_real_value_in_plain_and_basic_headers() {
    HttpHeaders headers =
        new DefaultHttpHeaders()
            .add("Authorization", basic("x-access-token:" + GH))
            .add("X-Token", "token " + GH + " and " + GH)
            .add("Accept", "*/*");
    List<String> rewritten = GUARD.substitute(headers, Map.of("github", "ghp_REAL"));
    assertThat(headers.get("X-Token")).isEqualTo("token ghp_REAL and ghp_REAL");
    assertThat(headers.get("Authorization")).isEqualTo(basic("x-access-token:ghp_REAL"));
    assertThat(headers.get("Accept")).isEqualTo("*/*");
    assertThat(headers.names()).containsExactly("Authorization", "X-Token", "Accept");
    assertThat(rewritten)
        .containsExactlyInAnyOrder(basic("x-access-token:ghp_REAL"), "token ghp_REAL and ghp_REAL");
  }

  @Test
  void only_the_credentials_of_the_route_are_replaced() {
    HttpHeaders headers = new DefaultHttpHeaders().add("X-Api-Key", KEY);
    assertThat(GUARD.substitute(headers, Map.of("github", "ghp_REAL"))).isEmpty();
    assertThat(headers.get("X-Api-Key")).isEqualTo(KEY);
  }

  @Test
  void a_placeholder_on_a_route_without_its_credential_is_a_leak() {
    PlaceholderLeak leak =
        GUARD.inspect(new DefaultHttpHeaders().add("Authorization", "token " + GH), GET, List.of());
    assertThat(leak).isEqualTo(new PlaceholderLeak("github", "the Authorization header"));
    assertThat(leak.error()).isEqualTo("placeholder-exfiltration");
    assertThat(leak.auditReason("evil.test"))
        .contains("likely exfiltration attempt", "'github'", "evil.test")
        .doesNotContain(GH);
  }

  @Test
  void another_credentials_placeholder_on_the_route_is_a_leak() {
    PlaceholderLeak leak =
        GUARD.inspect(new DefaultHttpHeaders().add("X-Api-Key", KEY), GET, List.of("github"));
    assertThat(leak).isEqualTo(new PlaceholderLeak("apikey", "the X-Api-Key header"));
  }

  @Test
  void a_placeholder_hidden_in_basic_credentials_of_another_route_is_a_leak() {
    PlaceholderLeak leak =
        GUARD.inspect(
            new DefaultHttpHeaders().add("Authorization", basic("me:" + GH)), GET, List.of());
    assertThat(leak)
        .isEqualTo(
            new PlaceholderLeak("github", "the Basic credentials of the Authorization header"));
  }

  @Test
  void the_query_and_path_are_never_places_for_a_placeholder_even_on_its_route() {
    assertThat(
            GUARD.inspect(
                new DefaultHttpHeaders(),
                request("/search", "access_token=" + GH),
                List.of("github")))
        .isEqualTo(new PlaceholderLeak("github", "the query string"));
    assertThat(
            GUARD.inspect(
                new DefaultHttpHeaders(),
                request("/search", "t=%63apgate-ph-github-abcdefghijklmnopqrstuvwxyz234567"),
                List.of("github")))
        .isEqualTo(new PlaceholderLeak("github", "the query string"));
    assertThat(
            GUARD.inspect(new DefaultHttpHeaders(), request("/x/" + GH, null), List.of("github")))
        .isEqualTo(new PlaceholderLeak("github", "the request path"));
  }

  @Test
  void an_altered_copy_is_a_leak_even_on_the_route() {
    assertThat(
            GUARD.inspect(
                new DefaultHttpHeaders().add("X-Token", GH.toUpperCase()), GET, List.of("github")))
        .isEqualTo(new PlaceholderLeak("github", "the X-Token header"));
  }

  @Test
  void trailers_are_never_rewritten() {
    assertThat(GUARD.inspectTrailers(new DefaultHttpHeaders().add("X-Checksum", GH)))
        .isEqualTo(new PlaceholderLeak("github", "the X-Checksum trailer"));
  }

  @Test
  void with_an_unreadable_file_anything_like_a_placeholder_is_refused() {
    PlaceholderGuard failClosed = new PlaceholderGuard(Placeholders.unreadable("broken"));
    PlaceholderLeak leak =
        failClosed.inspect(
            new DefaultHttpHeaders().add("X-Token", "capgate-ph-github-zzz"),
            GET,
            List.of("github"));
    assertThat(leak.credential()).isNull();
    assertThat(leak.error()).isEqualTo("placeholders-unavailable");
    assertThat(
            failClosed.inspect(new DefaultHttpHeaders().add("X-Token", "ordinary"), GET, List.of()))
        .isNull();
  }

  @Test
  void without_placeholders_nothing_is_checked() {
    assertThat(PlaceholderGuard.inactive().active()).isFalse();
    assertThat(PlaceholderGuard.inactive().newBodyScanner()).isNull();
  }
}
