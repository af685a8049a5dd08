package dev.capgate.operator;

import dev.capgate.testkit.PackageCycles;
import org.junit.jupiter.api.Test;

/**
 * The packages of the operator module, the root package dev.capgate.operator included, import each
 * other without a cycle (ARCHITECTURE.md draws the graph). A cycle says a shared piece sits in the
 * wrong package: move it down to one both sides may depend on.
 */
class PackageCyclesTest {
  @Test
  void packagesAreFreeOfCycles() {
    PackageCycles.check("dev.capgate.operator");
  }
}
