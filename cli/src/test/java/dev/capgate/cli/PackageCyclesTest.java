package dev.capgate.cli;

import dev.capgate.testkit.PackageCycles;
import org.junit.jupiter.api.Test;

/** The plugin's packages stay acyclic, as every module's (ARCHITECTURE.md). */
class PackageCyclesTest {
  @Test
  void noCycles() {
    PackageCycles.check("dev.capgate.cli");
  }
}
