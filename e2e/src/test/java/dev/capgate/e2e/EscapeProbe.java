package dev.capgate.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code escape-probe.py} (src/test/resources/e2e): from inside a container, try to become uid 1447
 * and then reach the canary and Vault directly. {@link #args} are its arguments, {@link #parse}
 * reads its {@code PROBE key=value} lines.
 */
final class EscapeProbe {
  static final String RESOURCE = "/e2e/escape-probe.py";
  private static final Pattern LINE = Pattern.compile("^PROBE (\\w+)=(.*)$", Pattern.MULTILINE);

  private EscapeProbe() {}

  static byte[] script() {
    try (InputStream in = EscapeProbe.class.getResourceAsStream(RESOURCE)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<String> args(Stack stack, Canary canary) {
    URI vault = URI.create(stack.vaultAddress());
    return List.of(
        stack.canaryHost(),
        String.valueOf(canary.tcpPort()),
        vault.getHost(),
        String.valueOf(vault.getPort()));
  }

  static Map<String, String> parse(String output) {
    Map<String, String> values = new LinkedHashMap<>();
    Matcher m = LINE.matcher(output);
    while (m.find()) {
      values.put(m.group(1), m.group(2).strip());
    }
    return values;
  }
}
