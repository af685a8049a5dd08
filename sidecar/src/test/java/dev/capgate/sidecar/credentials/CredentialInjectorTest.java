package dev.capgate.sidecar.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.InjectionType;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CredentialInjectorTest {
  private static final String SECRET = "ghp_s3cr3tV4lue";

  private static SecretValue secret(String value) {
    return new SecretValue("github", value, Instant.parse("2030-01-01T00:00:00Z"));
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static Stream<Arguments> renderings() {
    return Stream.of(
        Arguments.of(
            "bearer",
            new Injection(InjectionType.BEARER, null, null, null),
            "Authorization",
            "Bearer " + SECRET),
        Arguments.of(
            "basic with a user name",
            new Injection(InjectionType.BASIC, null, null, "x-access-token"),
            "Authorization",
            "Basic " + base64("x-access-token:" + SECRET)),
        Arguments.of(
            "basic without a user name",
            new Injection(InjectionType.BASIC, null, null, null),
            "Authorization",
            "Basic " + base64(SECRET)),
        Arguments.of(
            "header with the default template",
            new Injection(InjectionType.HEADER, "X-Api-Key", null, null),
            "X-Api-Key",
            SECRET),
        Arguments.of(
            "header with a template",
            new Injection(InjectionType.HEADER, "PRIVATE-TOKEN", "token {{value}}", null),
            "PRIVATE-TOKEN",
            "token " + SECRET),
        Arguments.of(
            "header with the value twice",
            new Injection(InjectionType.HEADER, "X-Pair", "{{value}}:{{value}}", null),
            "X-Pair",
            SECRET + ":" + SECRET));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renderings")
  void renders(String description, Injection injection, String name, String value) {
    InjectedHeader header = CredentialInjector.render(injection, secret(SECRET));

    assertThat(header.name()).isEqualTo(name);
    assertThat(header.value()).isEqualTo(value);
  }

  static Stream<Arguments> unsafeValues() {
    return Stream.of(
        Arguments.of("a carriage return", SECRET + "\rX-Evil: 1"),
        Arguments.of("a line feed", SECRET + "\nX-Evil: 1"),
        Arguments.of("CR LF", SECRET + "\r\nX-Evil: 1"),
        Arguments.of("a trailing newline", SECRET + "\n"),
        Arguments.of("NUL", SECRET + "\u0000"),
        Arguments.of("another control character", SECRET + "\u001b"),
        Arguments.of("DEL", SECRET + "\u007f"),
        Arguments.of("nothing at all", ""));
  }

  @ParameterizedTest(name = "a value with {0} is refused, naming only the credential")
  @MethodSource("unsafeValues")
  void refuses_unsafe_values(String description, String value) {
    for (InjectionType type : InjectionType.values()) {
      Injection injection =
          new Injection(type, type == InjectionType.HEADER ? "X-Api-Key" : null, null, null);
      assertThatThrownBy(() -> CredentialInjector.render(injection, secret(value)))
          .isInstanceOfSatisfying(
              CredentialUnavailableException.class,
              e -> {
                assertThat(e.credential()).isEqualTo("github");
                assertThat(e.getMessage()).contains("github").doesNotContain(SECRET);
              });
    }
  }

  @Test
  void a_value_is_rendered_once_per_injection() {
    SecretValue value = secret(SECRET);
    Injection bearer = new Injection(InjectionType.BEARER, null, null, null);
    Injection header = new Injection(InjectionType.HEADER, "X-Api-Key", null, null);

    InjectedHeader first = CredentialInjector.render(bearer, value);
    assertThat(CredentialInjector.render(bearer, value)).isSameAs(first);
    InjectedHeader other = CredentialInjector.render(header, value);
    assertThat(other.name()).isEqualTo("X-Api-Key");
    assertThat(other.value()).isEqualTo(SECRET);
    assertThat(CredentialInjector.render(bearer, value).value()).isEqualTo("Bearer " + SECRET);
  }

  @Test
  void a_tab_inside_a_value_is_a_legal_header_character() {
    assertThat(
            CredentialInjector.render(
                    new Injection(InjectionType.BEARER, null, null, null), secret("a\tb"))
                .value())
        .isEqualTo("Bearer a\tb");
  }

  @Test
  void a_template_with_a_line_break_is_refused() {
    Injection injection =
        new Injection(InjectionType.HEADER, "X-Api-Key", "{{value}}\r\nX-Evil: 1", null);

    assertThatThrownBy(() -> CredentialInjector.render(injection, secret(SECRET)))
        .isInstanceOf(CredentialUnavailableException.class)
        .hasMessageNotContaining(SECRET);
  }

  @Test
  void the_agents_own_header_is_replaced_not_merged() {
    HttpHeaders headers =
        new DefaultHttpHeaders()
            .add("authorization", "Bearer agent-made-this-up")
            .add("AUTHORIZATION", "Basic YWdlbnQ6cHc=")
            .add("Accept", "application/json");

    CredentialInjector.render(new Injection(InjectionType.BEARER, null, null, null), secret(SECRET))
        .replaceIn(headers);

    assertThat(headers.getAll("Authorization")).containsExactly("Bearer " + SECRET);
    assertThat(headers.names()).containsExactlyInAnyOrder("Authorization", "Accept");
    assertThat(headers.get("accept")).isEqualTo("application/json");
  }

  @Test
  void a_custom_header_replaces_the_agents_in_any_case() {
    HttpHeaders headers =
        new DefaultHttpHeaders().add("x-api-key", "guess").add("X-API-KEY", "guess2");

    CredentialInjector.render(
            new Injection(InjectionType.HEADER, "X-Api-Key", null, null), secret(SECRET))
        .replaceIn(headers);

    assertThat(headers.getAll("X-Api-Key")).containsExactly(SECRET);
  }

  @Test
  void secrets_do_not_print_themselves() {
    SecretValue value = secret(SECRET);
    InjectedHeader header =
        CredentialInjector.render(new Injection(InjectionType.BEARER, null, null, null), value);

    assertThat(value.toString()).contains("github").doesNotContain(SECRET);
    assertThat(header.toString()).contains("Authorization").doesNotContain(SECRET);
    assertThat(value.reveal()).isEqualTo(SECRET);
  }

  @Test
  void unavailable_credentials_name_the_credential_and_the_reason() {
    CredentialUnavailableException e =
        new CredentialUnavailableException("github", "Vault unreachable");

    assertThat(e.getMessage()).isEqualTo("credential 'github' unavailable: Vault unreachable");
    assertThat(e.reason()).isEqualTo("Vault unreachable");
  }
}
