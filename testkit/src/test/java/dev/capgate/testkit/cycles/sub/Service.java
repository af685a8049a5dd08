package dev.capgate.testkit.cycles.sub;

import dev.capgate.testkit.cycles.Wiring;

/** ...and a subpackage class that reaches back into the root package: the cycle we forbid. */
public final class Service {
  public String wiredBy() {
    return new Wiring().toString();
  }
}
