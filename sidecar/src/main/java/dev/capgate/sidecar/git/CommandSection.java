package dev.capgate.sidecar.git;

import dev.capgate.sidecar.policy.RefUpdate;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the command section of a {@code git-receive-pack} request body as it streams: pkt-lines
 * {@code <old> <new> <ref>\0<capabilities>} first, then {@code <old> <new> <ref>}, ended by a flush
 * ({@code 0000}); what follows (the pack) is not looked at here. Only the command section is copied
 * (at most {@link #MAX_BYTES}): a body whose commands do not end within that is refused, never
 * buffered further.
 */
public final class CommandSection {
  /** Room for hundreds of ref updates; a push that needs more is refused, not buffered. */
  public static final int MAX_BYTES = 64 * 1024;

  /** What the section turned out to be. */
  public sealed interface Result permits Commands, Malformed {}

  /**
   * The commands, and the capabilities the client asked for on the first (report-status,
   * side-band-64k, ...).
   */
  public record Commands(List<RefUpdate> updates, Set<String> capabilities) implements Result {}

  /** Not a command section this proxy can judge (the reason names why, for audit and git). */
  public record Malformed(String reason) implements Result {}

  private final byte[] buffer = new byte[MAX_BYTES];
  private int length;
  private int parsed;
  private final List<RefUpdate> updates = new ArrayList<>();
  private Set<String> capabilities = Set.of();
  private Result result;

  /** The section's outcome, or null while more body is needed. */
  public Result result() {
    return result;
  }

  /** Bytes of the body the section took, its flush included (what follows is the pack). */
  public int length() {
    return parsed;
  }

  /**
   * Takes the readable bytes of {@code chunk} without consuming them (the chunk still goes upstream
   * whole if the push is allowed).
   */
  public void feed(ByteBuf chunk) {
    if (result != null) {
      return;
    }
    int n = Math.min(chunk.readableBytes(), MAX_BYTES - length);
    chunk.getBytes(chunk.readerIndex(), buffer, length, n);
    length += n;
    parse();
    if (result == null && length == MAX_BYTES) {
      result = new Malformed("ref update commands longer than " + MAX_BYTES + " bytes");
    }
  }

  /** The body ended: a section without its flush is truncated. */
  public void endOfBody() {
    if (result == null) {
      result = new Malformed("request body ended before the ref update commands did");
    }
  }

  private void parse() {
    while (result == null && length - parsed >= 4) {
      int size = hexLength(parsed);
      if (size < 0 || (size > 0 && size < 5)) {
        result = new Malformed("not a pkt-line ref update command");
        return;
      }
      if (size == 0) {
        parsed += 4;
        result = new Commands(List.copyOf(updates), capabilities);
        return;
      }
      if (length - parsed < size) {
        return; // wait for the rest of this line
      }
      String line = new String(buffer, parsed + 4, size - 4, StandardCharsets.ISO_8859_1);
      parsed += size;
      command(line);
    }
  }

  private void command(String line) {
    if (line.endsWith("\n")) {
      line = line.substring(0, line.length() - 1);
    }
    if (line.startsWith("shallow ")) {
      return; // the client's shallow boundary, not a ref update
    }
    if (updates.isEmpty()) {
      if (line.startsWith("push-cert")) {
        result = new Malformed("signed pushes (push-cert) are not supported through the sidecar");
        return;
      }
      int nul = line.indexOf('\0');
      if (nul >= 0) {
        capabilities = new HashSet<>(List.of(line.substring(nul + 1).trim().split(" ")));
        line = line.substring(0, nul);
      }
    }
    String[] parts = line.split(" ", 3);
    if (parts.length != 3
        || !objectId(parts[0])
        || parts[1].length() != parts[0].length()
        || !objectId(parts[1])
        || parts[2].isEmpty()) {
      result = new Malformed("not a ref update command");
      return;
    }
    updates.add(new RefUpdate(parts[0], parts[1], parts[2]));
  }

  /** A SHA-1 or SHA-256 object id in lower-case hex. */
  private static boolean objectId(String s) {
    if (s.length() != 40 && s.length() != 64) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private int hexLength(int at) {
    int value = 0;
    for (int i = at; i < at + 4; i++) {
      int digit = Character.digit(buffer[i], 16);
      if (digit < 0) {
        return -1;
      }
      value = value * 16 + digit;
    }
    return value;
  }
}
