package dev.capgate.testkit;

import java.security.SecureRandom;

/** Random suffixes for namespaces and mounts: valid as DNS labels and as OpenBao paths. */
final class Names {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  private Names() {}

  static String withRandomSuffix(String prefix, int length) {
    StringBuilder name = new StringBuilder(prefix).append('-');
    for (int i = 0; i < length; i++) {
      name.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return name.toString();
  }
}
