package dev.capgate.e2e.upstream;

import java.util.HashMap;

/** {@code --name value} pairs; a missing required one is a clear error, not a null later. */
final class Flags extends HashMap<String, String> {
  static Flags parse(String[] args) {
    Flags flags = new Flags();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value, got " + args[i]);
      }
      flags.put(args[i].substring(2), args[i + 1]);
    }
    return flags;
  }

  @Override
  public String get(Object name) {
    String value = super.get(name);
    if (value == null) {
      throw new IllegalArgumentException("missing --" + name);
    }
    return value;
  }
}
