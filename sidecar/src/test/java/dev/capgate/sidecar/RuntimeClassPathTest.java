package dev.capgate.sidecar;

import static com.tngtech.archunit.base.DescribedPredicate.describe;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The sidecar carries no general Kubernetes client and no YAML parser (issue 13: they were about a
 * third of the classes a sidecar loaded, for one watch and one ConfigMap). The test class path has
 * Fabric8 (the test kit drives the API server with it), so a stray use would pass every unit test
 * and fail only in a pod: this rule follows the sidecar's classes through the Capgate modules it
 * uses (crds, common) and fails on any path to them. The jar's {@code lib/} is checked by {@code
 * RuntimeClassPathIT}.
 */
class RuntimeClassPathTest {
  @Test
  void the_sidecar_reaches_neither_fabric8_nor_yaml() {
    JavaClasses classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.capgate.sidecar", "dev.capgate.api", "dev.capgate.common");
    noClasses()
        .that()
        .resideInAPackage("dev.capgate.sidecar..")
        .should()
        .transitivelyDependOnClassesThat(
            describe(
                "belong to Fabric8, SnakeYAML or Jackson's YAML format",
                (JavaClass c) ->
                    c.getPackageName().startsWith("io.fabric8")
                            && !c.getPackageName().startsWith("io.fabric8.generator.annotation")
                        || c.getPackageName().startsWith("org.yaml")
                        || c.getPackageName().startsWith("com.fasterxml.jackson.dataformat")))
        .check(classes);
  }
}
