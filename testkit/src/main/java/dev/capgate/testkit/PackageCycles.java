package dev.capgate.testkit;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

/**
 * The rule of every module's {@code PackageCyclesTest}: the packages directly under the module's
 * root package <em>and the root package itself</em> depend on each other without a cycle.
 *
 * <p>Why a slice assignment of our own: ArchUnit's {@code
 * slices().matching("dev.capgate.sidecar.(*)..")} puts the classes directly in {@code
 * dev.capgate.sidecar} in no slice at all, so the cycles this rule was written against (the root
 * package wiring every subpackage, and subpackages reaching back for a config or state class kept
 * in the root) would pass it. Here the root package is the slice {@code (root)}, and {@code
 * dev.capgate.sidecar.http.h2} belongs to the slice {@code http}.
 */
public final class PackageCycles {

  private PackageCycles() {}

  /** Checks the main (non-test) classes of {@code rootPackage}; fails listing every cycle. */
  public static void check(String rootPackage) {
    freeOfCycles(rootPackage).check(mainClasses(rootPackage));
  }

  public static JavaClasses mainClasses(String rootPackage) {
    return new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages(rootPackage);
  }

  public static ArchRule freeOfCycles(String rootPackage) {
    return slices().assignedFrom(topLevelPackagesOf(rootPackage)).should().beFreeOfCycles();
  }

  static SliceAssignment topLevelPackagesOf(String rootPackage) {
    return new SliceAssignment() {
      @Override
      public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
        String pkg = javaClass.getPackageName();
        if (pkg.equals(rootPackage)) {
          return SliceIdentifier.of("(root)");
        }
        if (pkg.startsWith(rootPackage + ".")) {
          return SliceIdentifier.of(pkg.substring(rootPackage.length() + 1).split("\\.")[0]);
        }
        return SliceIdentifier.ignore();
      }

      @Override
      public String getDescription() {
        return "the packages directly under " + rootPackage + " and " + rootPackage + " itself";
      }
    };
  }
}
