package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl explain agentsession.<any field>} prints a sentence, not an empty DESCRIPTION:
 * every property of the CRD's schema carries a description, and the CRD answers to {@code kubectl
 * get capgate} and shows whether a session is Ready.
 */
class CrdExplainTest {
  static CustomResourceDefinition committed() throws IOException {
    // What the types generate; CrdYamlInSyncTest keeps the committed copies equal to it.
    return Serialization.unmarshal(CrdYamlInSyncTest.render(), CustomResourceDefinition.class);
  }

  @Test
  void everyFieldHasADescription() throws IOException {
    List<String> undescribed = new ArrayList<>();
    for (CustomResourceDefinitionVersion version : committed().getSpec().getVersions()) {
      collectUndescribed(version.getSchema().getOpenAPIV3Schema(), version.getName(), undescribed);
    }
    assertThat(undescribed)
        .as("fields kubectl explain would print without a description")
        .isEmpty();
  }

  @Test
  void listedUnderTheCapgateCategoryWithAReadyColumn() throws IOException {
    CustomResourceDefinition crd = committed();
    assertThat(crd.getSpec().getNames().getCategories()).containsExactly("capgate");
    assertThat(crd.getSpec().getVersions().getFirst().getAdditionalPrinterColumns())
        .anySatisfy(
            c -> {
              assertThat(c.getName()).isEqualTo("Ready");
              assertThat(c.getJsonPath())
                  .isEqualTo(".status.conditions[?(@.type==\"Ready\")].status");
            });
  }

  /**
   * {@code kubectl get agentsession} shows whether the agent is being refused, and how recently.
   */
  @Test
  void denialsAndLastActivityColumns() throws IOException {
    var columns = committed().getSpec().getVersions().getFirst().getAdditionalPrinterColumns();
    assertThat(columns)
        .anySatisfy(
            c -> {
              assertThat(c.getName()).isEqualTo("Denials");
              assertThat(c.getJsonPath()).isEqualTo(".status.activity.denials");
              assertThat(c.getType()).isEqualTo("integer");
              assertThat(c.getPriority()).isZero();
            })
        .anySatisfy(
            c -> {
              assertThat(c.getName()).isEqualTo("Last-Activity");
              assertThat(c.getJsonPath()).isEqualTo(".status.activity.lastActivity");
              assertThat(c.getType()).as("a date: kubectl prints its age").isEqualTo("date");
            });
    var status =
        committed()
            .getSpec()
            .getVersions()
            .getFirst()
            .getSchema()
            .getOpenAPIV3Schema()
            .getProperties()
            .get("status")
            .getProperties();
    assertThat(status).containsKeys("lastRecovery", "activity");
    assertThat(status.get("activity").getProperties().get("lastDenial").getProperties())
        .containsOnlyKeys("time", "host", "method", "path", "rule", "reason", "requestId");
  }

  private static void collectUndescribed(JSONSchemaProps schema, String path, List<String> out) {
    for (Map.Entry<String, JSONSchemaProps> property : schema.getProperties().entrySet()) {
      String field = path + "." + property.getKey();
      if (property.getValue().getDescription() == null
          || property.getValue().getDescription().isBlank()) {
        out.add(field);
      }
      collectUndescribed(property.getValue(), field, out);
    }
    if (schema.getItems() != null && schema.getItems().getSchema() != null) {
      collectUndescribed(schema.getItems().getSchema(), path + "[]", out);
    }
    if (schema.getAdditionalProperties() != null
        && schema.getAdditionalProperties().getSchema() != null) {
      collectUndescribed(schema.getAdditionalProperties().getSchema(), path + "{}", out);
    }
  }
}
