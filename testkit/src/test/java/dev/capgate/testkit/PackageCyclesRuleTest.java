package dev.capgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;

/**
 * The rule must see a cycle between the root package and a subpackage (plain ArchUnit slices do
 * not).
 */
class PackageCyclesRuleTest {
  private static final String ROOT = "dev.capgate.testkit.cycles";
  private final JavaClasses fixture = new ClassFileImporter().importPackages(ROOT);

  @Test
  void aRootToSubpackageCycleFails() {
    assertThatThrownBy(() -> PackageCycles.freeOfCycles(ROOT).check(fixture))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Cycle detected: Slice (root) -> ")
        .hasMessageContaining("Slice sub -> ");
  }

  @Test
  void theUsualSlicePatternWouldMissIt() {
    var usual =
        com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices()
            .matching(ROOT + ".(*)..")
            .should()
            .beFreeOfCycles()
            .allowEmptyShould(true);
    usual.check(fixture);
    assertThat(fixture.contain(ROOT + ".Wiring")).isTrue();
  }
}
