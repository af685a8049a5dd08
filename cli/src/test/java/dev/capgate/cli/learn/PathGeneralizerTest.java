package dev.capgate.cli.learn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PathGeneralizerTest {
  @Test
  void idsBecomeOneSegmentWildcards() {
    assertThat(
            PathGeneralizer.generalize(
                List.of(
                    "/repos/acme/repo-a/issues/12",
                    "/repos/acme/repo-a/issues/345",
                    "/repos/acme/repo-a/commits/9fceb02d0ae598e95dc970b74767f19372d61af8",
                    "/v1/jobs/3f2b8c1e-8a4e-4f7e-9d5c-2b1f0c9e7a11/logs")))
        .containsExactly(
            "/repos/acme/repo-a/commits/*", "/repos/acme/repo-a/issues/*", "/v1/jobs/*/logs");
  }

  @Test
  void wordsVersionsAndShortNamesStay() {
    for (String kept : List.of("repos", "v1", "v2beta1", "main", "repo-a", "decade", "README.md")) {
      assertThat(PathGeneralizer.looksLikeId(kept)).as(kept).isFalse();
    }
    assertThat(PathGeneralizer.looksLikeId("9fceb02")).as("a short commit").isTrue();
    assertThat(PathGeneralizer.looksLikeId("ab12cd34ef56ab78cd90")).isTrue();
    assertThat(PathGeneralizer.looksLikeId("tok_4fJ9x2LmQ8rT7vW1")).isTrue();
    assertThat(PathGeneralizer.looksLikeId("a-very-long-name-with-words")).isFalse();
  }

  @Test
  void longTailsEndInDoubleStar() {
    assertThat(
            PathGeneralizer.generalize(
                List.of(
                    "/acme/repo-a/blob/main/src/main/java/App.java", "/acme/repo-a/blob/main/x")))
        .containsExactly("/acme/repo-a/blob/main/src/**", "/acme/repo-a/blob/main/x");
  }

  @Test
  void manySiblingsUnderOneParentBecomeAWildcard() {
    List<String> files =
        IntStream.range(0, 6).mapToObj(i -> "/simple/package-" + (char) ('a' + i) + "/").toList();
    assertThat(PathGeneralizer.generalize(files)).containsExactly("/simple/*/");
    assertThat(
            PathGeneralizer.generalize(
                List.of("/users/alice", "/users/bob", "/users/carol", "/users/dave")))
        .as("four are still listed: reviewable and precise")
        .hasSize(4);
  }

  @Test
  void tooManyPatternsCollapseToTheCommonPrefix() {
    List<String> paths =
        IntStream.range(0, 12).mapToObj(i -> "/api/area" + (char) ('a' + i) + "/x/list").toList();
    assertThat(PathGeneralizer.generalize(paths)).containsExactly("/api/**");
  }

  @Test
  void literalsAreEncodedForThePathGrammar() {
    assertThat(PathGeneralizer.generalize(List.of("/files/a b*c/café", "/", "/repos/")))
        .containsExactly("/", "/files/a%20b%2Ac/caf%C3%A9", "/repos/");
  }
}
