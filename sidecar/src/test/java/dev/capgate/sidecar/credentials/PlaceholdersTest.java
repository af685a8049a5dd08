package dev.capgate.sidecar.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlaceholdersTest {
  static final String GH = "capgate-ph-github-abcdefghijklmnopqrstuvwxyz234567";
  static final String KEY = "capgate-ph-apikey-2222abcdefghijklmnopqrstuvwxyz77";

  @TempDir Path dir;

  @Test
  void no_file_means_no_placeholders_and_no_checks() {
    Placeholders p = Placeholders.load(dir.resolve("placeholders.json"));
    assertThat(p.isEmpty()).isTrue();
    assertThat(p.problem()).isEmpty();
    assertThat(p.find("Authorization: token " + GH)).isNull();
  }

  @Test
  void an_empty_object_means_no_placeholders() throws Exception {
    Files.writeString(dir.resolve("placeholders.json"), "{}");
    assertThat(Placeholders.load(dir.resolve("placeholders.json")).isEmpty()).isTrue();
  }

  @Test
  void the_operators_file_is_read_by_credential() throws Exception {
    Files.writeString(
        dir.resolve("placeholders.json"), "{\"github\":\"" + GH + "\",\"apikey\":\"" + KEY + "\"}");
    Placeholders p = Placeholders.load(dir.resolve("placeholders.json"));
    assertThat(p.isEmpty()).isFalse();
    assertThat(p.credentials()).containsExactly("github", "apikey");
    assertThat(p.placeholderOf("github")).contains(GH);
    assertThat(p.toString()).doesNotContain(GH).contains("github");
  }

  @Test
  void a_malformed_file_fails_closed_on_anything_that_looks_like_a_placeholder() throws Exception {
    Files.writeString(dir.resolve("placeholders.json"), "{\"github\": ");
    Placeholders p = Placeholders.load(dir.resolve("placeholders.json"));
    assertThat(p.isEmpty()).isFalse();
    assertThat(p.problem()).get().asString().contains("not valid JSON");
    Placeholders.Match m = p.find("x-token: CAPGATE-PH-whatever");
    assertThat(m).isNotNull();
    assertThat(m.credential()).isNull();
    assertThat(p.find("nothing here")).isNull();
  }

  @Test
  void a_file_with_a_value_of_the_wrong_shape_fails_closed() throws Exception {
    Files.writeString(
        dir.resolve("placeholders.json"), "{\"github\":\"ghp_real_token_by_mistake\"}");
    Placeholders p = Placeholders.load(dir.resolve("placeholders.json"));
    assertThat(p.problem())
        .get()
        .asString()
        .contains("github")
        .doesNotContain("ghp_real_token_by_mistake");
    assertThatThrownBy(() -> Placeholders.of(Map.of("x", "capgate-ph-UPPER-abcdefgh")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void matching_ignores_letter_case_but_only_an_exact_copy_is_exact() {
    Placeholders p = Placeholders.of(Map.of("github", GH));
    Placeholders.Match exact = p.find("token " + GH);
    assertThat(exact.credential()).isEqualTo("github");
    assertThat(exact.exact()).isTrue();
    assertThat(exact.start()).isEqualTo(6);
    assertThat(exact.end()).isEqualTo(6 + GH.length());
    Placeholders.Match upper = p.find("token " + GH.toUpperCase());
    assertThat(upper.credential()).isEqualTo("github");
    assertThat(upper.exact()).isFalse();
    assertThat(p.find("capgate-ph-github-someoneelse")).isNull();
    assertThat(p.find("capgate-ph-capgate-ph-github-abcdefghijklmnopqrstuvwxyz234567x").start())
        .isEqualTo(11);
  }
}
