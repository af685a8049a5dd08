package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {
  @TempDir Path dir;

  @Test
  void reads_the_token_without_surrounding_whitespace() throws IOException {
    Path file = Files.writeString(dir.resolve("token"), "  s.abc123\n");

    assertThat(new TokenFile(file).token()).isEqualTo("s.abc123");
  }

  @Test
  void reads_the_file_again_when_it_changes() throws IOException {
    Path file = Files.writeString(dir.resolve("token"), "first\n");
    TokenFile tokens = new TokenFile(file);
    assertThat(tokens.token()).isEqualTo("first");

    // Same size, so only the modification time tells the change.
    Files.writeString(file, "secnd\n");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));

    assertThat(tokens.token()).isEqualTo("secnd");
  }

  @Test
  void follows_a_file_swapped_by_rename_as_kubernetes_does() throws IOException {
    Path file = Files.writeString(dir.resolve("token"), "old-token");
    TokenFile tokens = new TokenFile(file);
    assertThat(tokens.token()).isEqualTo("old-token");

    Path next = Files.writeString(dir.resolve("token.next"), "new-token");
    Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

    assertThat(tokens.token()).isEqualTo("new-token");
  }

  @Test
  void an_empty_file_is_no_token() throws IOException {
    Path file = Files.writeString(dir.resolve("token"), "\n");

    assertThatThrownBy(() -> new TokenFile(file).token()).isInstanceOf(IOException.class);
  }

  @Test
  void a_file_with_two_lines_is_refused_without_echoing_it() throws IOException {
    Path file = Files.writeString(dir.resolve("token"), "s.one\ns.two\n");

    assertThatThrownBy(() -> new TokenFile(file).token())
        .isInstanceOf(IOException.class)
        .hasMessageNotContaining("s.one");
  }

  @Test
  void a_missing_file_is_an_error() {
    assertThatThrownBy(() -> new TokenFile(dir.resolve("absent")).token())
        .isInstanceOf(IOException.class);
  }
}
