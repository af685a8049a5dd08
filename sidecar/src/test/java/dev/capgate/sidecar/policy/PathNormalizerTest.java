package dev.capgate.sidecar.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Properties of path normalization over many generated paths. */
class PathNormalizerTest {
  private static final String[] SEGMENTS = {
    "a",
    "repos",
    "acme",
    "",
    ".",
    "..",
    "...",
    "%2e",
    "%2E%2e",
    ".%2e",
    "a;b",
    "%3B",
    "caf%C3%A9",
    "~x",
    "%7E",
    "a%20b",
    "A",
    "%41",
    "x:y@z",
    "%25",
    "1"
  };

  private static String randomPath(Random random) {
    StringBuilder path = new StringBuilder();
    int n = 1 + random.nextInt(6);
    for (int i = 0; i < n; i++) {
      path.append('/').append(SEGMENTS[random.nextInt(SEGMENTS.length)]);
    }
    return path.toString();
  }

  private static PathNormalizer.Result normalizeOrNull(String raw) {
    try {
      return PathNormalizer.normalize(raw);
    } catch (RejectedRequestException e) {
      return null;
    }
  }

  @Test
  void what_is_forwarded_normalizes_to_itself() {
    Random random = new Random(7);
    int checked = 0;
    for (int i = 0; i < 20_000; i++) {
      PathNormalizer.Result once = normalizeOrNull(randomPath(random));
      if (once == null) {
        continue;
      }
      PathNormalizer.Result twice = PathNormalizer.normalize(once.target());
      assertThat(twice)
          .as("normalizing %s again", once.target())
          .isEqualTo(new PathNormalizer.Result(once.path(), once.target()));
      checked++;
    }
    assertThat(checked).isGreaterThan(1_000);
  }

  @Test
  void escaping_an_unreserved_character_changes_nothing() {
    Random random = new Random(11);
    int checked = 0;
    for (int i = 0; i < 20_000; i++) {
      String raw = randomPath(random);
      int a = raw.indexOf('a');
      if (a < 0) {
        continue;
      }
      String escaped = raw.substring(0, a) + "%61" + raw.substring(a + 1);
      assertThat(normalizeOrNull(escaped))
          .as("%s vs %s", raw, escaped)
          .isEqualTo(normalizeOrNull(raw));
      checked++;
    }
    assertThat(checked).isGreaterThan(1_000);
  }

  @Test
  void a_path_with_nothing_to_do_is_returned_as_is() {
    String raw = "/repos/acme/repo-a/pulls;x=1/~me:@!$&'()*+,=/";

    PathNormalizer.Result result = PathNormalizer.normalize(raw);

    assertThat(result.path()).isSameAs(raw);
    assertThat(result.target()).isSameAs(raw);
  }
}
