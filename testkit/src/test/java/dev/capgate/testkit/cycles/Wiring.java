package dev.capgate.testkit.cycles;

import dev.capgate.testkit.cycles.sub.Service;

/** Fixture of {@code PackageCyclesRuleTest}: a root-package class that wires a subpackage... */
public final class Wiring {
  public static final String NAME = "wiring";

  public Service service() {
    return new Service();
  }
}
