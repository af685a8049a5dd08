package dev.capgate.api.v1alpha1;

import java.time.Duration;
import java.util.regex.Matcher;

/** Parses the {@code 2h}, {@code 90m}, {@code 1h30m} durations of {@code spec.ttl}. */
public final class Durations {
  private static final java.util.regex.Pattern PART =
      java.util.regex.Pattern.compile("([0-9]+)([hms])");

  private Durations() {}

  /**
   * @throws IllegalArgumentException naming the text when it is not such a duration
   */
  public static Duration parse(String text) {
    if (text == null || !text.matches(Patterns.DURATION)) {
      throw new IllegalArgumentException("not a duration like 2h, 90m or 1h30m: '" + text + "'");
    }
    Duration total = Duration.ZERO;
    Matcher m = PART.matcher(text);
    while (m.find()) {
      long n = Long.parseLong(m.group(1));
      total =
          total.plus(
              switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
              });
    }
    return total;
  }
}
