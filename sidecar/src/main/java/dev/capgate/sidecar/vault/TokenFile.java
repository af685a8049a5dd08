package dev.capgate.sidecar.vault;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * A Vault token kept in a file, re-read whenever the file changes (modification time, size or
 * identity: Kubernetes swaps mounted files by renaming a symlink, which this follows). Surrounding
 * whitespace, such as a trailing newline, is not part of the token.
 */
public final class TokenFile implements VaultTokenSource {
  private final Path file;
  private Stamp stamp;
  private String token;

  private record Stamp(Object fileKey, FileTime modified, long size) {}

  public TokenFile(Path file) {
    this.file = Objects.requireNonNull(file, "file");
  }

  @Override
  public synchronized String token() throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
    Stamp current =
        new Stamp(attributes.fileKey(), attributes.lastModifiedTime(), attributes.size());
    if (!current.equals(stamp)) {
      String read = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (read.isEmpty() || !read.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
        // Never echo the content: it is a credential.
        throw new IOException("the Vault token file does not hold a single token");
      }
      token = read;
      stamp = current;
    }
    return token;
  }
}
