package dev.capgate.sidecar.audit;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request ids that are short, unique and cheap: a random 8-character prefix drawn once per
 * generator (40 bits, so two sidecars practically never share one) followed by a counter, both in
 * lower-case Crockford base32 (no i, l, o, u: easy to read aloud from an error message). For
 * example {@code 7gk2m9qa-1c}.
 */
public final class RequestIds {
  private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
  private static final int PREFIX_CHARS = 8;

  private final String prefix;
  private final AtomicLong counter = new AtomicLong();

  public RequestIds() {
    SecureRandom random = new SecureRandom();
    char[] chars = new char[PREFIX_CHARS + 1];
    for (int i = 0; i < PREFIX_CHARS; i++) {
      chars[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    chars[PREFIX_CHARS] = '-';
    this.prefix = new String(chars);
  }

  public String next() {
    long n = counter.incrementAndGet();
    char[] digits = new char[13];
    int at = digits.length;
    do {
      digits[--at] = ALPHABET[(int) (n & 31)];
      n >>>= 5;
    } while (n != 0);
    return prefix.concat(new String(digits, at, digits.length - at));
  }
}
