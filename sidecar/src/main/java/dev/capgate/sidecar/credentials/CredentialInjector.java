package dev.capgate.sidecar.credentials;

import dev.capgate.api.v1alpha1.Injection;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Renders a credential value as the header the upstream expects. The value is checked first: a
 * header value may hold no control character other than a tab, and none may be smuggled in through
 * the value (CR/LF would start a new header line, NUL truncates in some servers).
 *
 * <p>How the result is applied (invariant 6): the data plane removes <em>every</em> header of that
 * name the agent sent, in any letter case, then sets the rendered one, e.g. with {@link
 * InjectedHeader#replaceIn}. An agent's own {@code Authorization} is never merged with, appended
 * to, or preferred over the injected one.
 */
public final class CredentialInjector {
  static final String AUTHORIZATION = "Authorization";
  static final String VALUE_PLACEHOLDER = "{{value}}";

  private CredentialInjector() {}

  /**
   * The header to set (after removing every header of that name the agent sent).
   *
   * @throws CredentialUnavailableException naming the credential when the value (or the rendered
   *     header) is not a safe header value
   */
  public static InjectedHeader render(Injection injection, SecretValue value) {
    SecretValue.Rendered known = value.rendered();
    if (known != null && known.injection() == injection) {
      return known.header(); // checked when it was rendered; both are immutable
    }
    InjectedHeader header = renderChecked(injection, value);
    value.rendered(new SecretValue.Rendered(injection, header));
    return header;
  }

  private static InjectedHeader renderChecked(Injection injection, SecretValue value) {
    String secret = value.reveal();
    if (secret.isEmpty()) {
      throw new CredentialUnavailableException(value.credential(), "the value is empty");
    }
    checkHeaderSafe(
        secret, value.credential(), "the value contains a control character (CR, LF, NUL, ...)");
    InjectedHeader header =
        switch (injection.type()) {
          case BEARER -> new InjectedHeader(AUTHORIZATION, "Bearer " + secret);
          case BASIC ->
              new InjectedHeader(
                  AUTHORIZATION,
                  "Basic "
                      + base64(
                          injection.username() == null
                              ? secret
                              : injection.username() + ":" + secret));
          case HEADER ->
              new InjectedHeader(
                  injection.header(), template(injection).replace(VALUE_PLACEHOLDER, secret));
        };
    // The template and username come from the spec, not from Vault: check what will be sent too.
    checkHeaderSafe(
        header.value(), value.credential(), "the rendered header contains a control character");
    return header;
  }

  private static String template(Injection injection) {
    return injection.template() == null ? VALUE_PLACEHOLDER : injection.template();
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static void checkHeaderSafe(String text, String credential, String reason) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        throw new CredentialUnavailableException(credential, reason);
      }
    }
  }
}
