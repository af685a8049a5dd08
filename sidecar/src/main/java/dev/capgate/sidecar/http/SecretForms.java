package dev.capgate.sidecar.http;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The spellings under which an echoing upstream hands a credential back: the value itself, and the
 * value as common encoders write it when they put it in a URL, a JSON string or base64. The
 * scrubber masks every one of them (issue 11).
 *
 * <ul>
 *   <li>percent-encoding: RFC 3986 (everything but unreserved escaped; upper- and lower-case hex),
 *       {@code encodeURIComponent}, HTML forms ({@code application/x-www-form-urlencoded}, space as
 *       {@code +});
 *   <li>JSON strings: {@code \/} for {@code /} (PHP and some Java), Go's {@code \\u003c}-style
 *       HTML-safe escapes, .NET's default escaper ({@code +}, {@code '}, {@code `} ... as {@code
 *       \\u002B}), ASCII-only output ({@code \\u00e9}), and everything but letters and digits as
 *       {@code \\u00xx} (lower and upper hex);
 *   <li>base64, standard and URL-safe alphabets, padded and unpadded, as a token of its own; and
 *       for each of the three alignments the value can have inside a longer base64 text (an echo of
 *       the whole request, {@code user:secret} of Basic), the characters that depend on the value's
 *       bytes alone. The one or two characters at either end that mix in neighbouring bytes carry
 *       at most a few bits of the value.
 * </ul>
 *
 * <p>What is not covered: a deliberately transformed value (reversed, split, hex, encrypted). An
 * upstream that holds the credential could always do that; the scrubber is against echoes.
 */
final class SecretForms {
  /**
   * Below this many bytes, a form would mask ordinary text (a base64 fragment of a short value).
   */
  static final int SHORTEST_DERIVED_FORM = 8;

  private static final HexFormat LOWER = HexFormat.of();
  private static final HexFormat UPPER = HexFormat.of().withUpperCase();

  private SecretForms() {}

  /** The value and its encoded forms, each once, the value first. */
  static Set<String> of(String value) {
    Set<String> forms = new LinkedHashSet<>();
    forms.add(value);
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    addDerived(forms, percent(utf8, "-._~", false, UPPER));
    addDerived(forms, percent(utf8, "-._~", false, LOWER));
    addDerived(forms, percent(utf8, "-._~!'()*", false, UPPER)); // encodeURIComponent
    addDerived(forms, percent(utf8, "-._*", true, UPPER)); // HTML forms, Java's URLEncoder
    addDerived(forms, json(value, "/", LOWER, false));
    addDerived(forms, json(value, "<>&\u2028\u2029", LOWER, false)); // Go
    addDerived(forms, json(value, "<>&'\"+`", UPPER, true)); // .NET System.Text.Json
    addDerived(
        forms, json(value, "", LOWER, true)); // Python ensure_ascii, Jackson ESCAPE_NON_ASCII
    addDerived(forms, json(value, "", UPPER, true));
    addDerived(forms, jsonEverything(value, LOWER));
    addDerived(forms, jsonEverything(value, UPPER));
    for (Base64.Encoder encoder :
        new Base64.Encoder[] {Base64.getEncoder(), Base64.getUrlEncoder()}) {
      String padded = encoder.encodeToString(utf8);
      addDerived(forms, padded);
      addDerived(forms, stripPadding(padded));
      for (int offset = 0; offset < 3; offset++) {
        addDerived(forms, base64Core(encoder, utf8, offset));
      }
    }
    return forms;
  }

  private static void addDerived(Set<String> forms, String form) {
    if (form != null && form.length() >= SHORTEST_DERIVED_FORM) {
      forms.add(form);
    }
  }

  /**
   * Percent-encoding: letters, digits and {@code unreserved} stay; the rest is {@code %XX} per
   * UTF-8 byte.
   */
  private static String percent(
      byte[] utf8, String unreserved, boolean spaceAsPlus, HexFormat hex) {
    StringBuilder out = new StringBuilder(utf8.length * 3);
    for (byte b : utf8) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || unreserved.indexOf(c) >= 0) {
        out.append((char) c);
      } else if (c == ' ' && spaceAsPlus) {
        out.append('+');
      } else {
        out.append('%').append(hex.toHexDigits((byte) c));
      }
    }
    return out.toString();
  }

  /**
   * A JSON string body: {@code "} and {@code \} escaped as JSON requires, control characters as
   * {@code \\u00xx}, {@code escaped} as {@code \\u00xx} (or {@code \/} for a lone {@code "/"}), and
   * with {@code asciiOnly} every non-ASCII UTF-16 unit as {@code \\uXXXX}.
   */
  private static String json(String value, String escaped, HexFormat hex, boolean asciiOnly) {
    StringBuilder out = new StringBuilder(value.length() + 16);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' && escaped.indexOf('"') < 0) {
        out.append("\\\"");
      } else if (c == '\\') {
        out.append("\\\\");
      } else if (c == '/' && escaped.equals("/")) {
        out.append("\\/");
      } else if (c < 0x20 || escaped.indexOf(c) >= 0 || (asciiOnly && c > 0x7e)) {
        unicodeEscape(out, c, hex);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** Every character but ASCII letters and digits as {@code \\uXXXX}. */
  private static String jsonEverything(String value, HexFormat hex) {
    StringBuilder out = new StringBuilder(value.length() * 2);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        out.append(c);
      } else {
        unicodeEscape(out, c, hex);
      }
    }
    return out.toString();
  }

  private static void unicodeEscape(StringBuilder out, char c, HexFormat hex) {
    out.append("\\u").append(hex.toHexDigits(c));
  }

  private static String stripPadding(String base64) {
    int end = base64.length();
    while (end > 0 && base64.charAt(end - 1) == '=') {
      end--;
    }
    return base64.substring(0, end);
  }

  /**
   * The base64 characters that depend on the value alone when it starts {@code offset} bytes into a
   * 3-byte group of a longer text: the characters before and after, which mix in unknown
   * neighbouring bits, are left out.
   */
  private static String base64Core(Base64.Encoder encoder, byte[] utf8, int offset) {
    byte[] shifted = new byte[offset + utf8.length];
    System.arraycopy(utf8, 0, shifted, offset, utf8.length);
    String encoded = stripPadding(encoder.encodeToString(shifted));
    int bits = 8 * shifted.length;
    int first = (8 * offset + 5) / 6; // the first character whose 6 bits are all the value's
    int last = (bits - 6) / 6; // the last character whose 6 bits are all inside the text
    if (last < first) {
      return null;
    }
    return encoded.substring(first, last + 1);
  }
}
