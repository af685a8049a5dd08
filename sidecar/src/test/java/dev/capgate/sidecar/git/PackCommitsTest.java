package dev.capgate.sidecar.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.sidecar.policy.RefUpdate;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Packs as a real {@code git push} makes them ({@code git pack-objects --revs --thin --stdout},
 * with offset deltas as against a server that offers {@code ofs-delta}, or ref deltas), read by
 * {@link PackCommits} and judged by {@link FastForward}.
 */
class PackCommitsTest {
  @TempDir Path dir;

  @BeforeEach
  void repo() throws Exception {
    git("init", "-q", "-b", "main", ".");
    Files.writeString(dir.resolve("README"), "seed\n");
    git("add", "README");
    commit("seed");
  }

  @Test
  void a_fast_forward_is_proven_through_several_new_commits() throws Exception {
    String old = head();
    commit("one");
    commit("two");
    String now = commit("three");
    PackCommits pack = pack(now, old);
    assertThat(pack.commits()).isEqualTo(3);
    assertThat(FastForward.unproven(pack, new RefUpdate(old, now, "refs/heads/agent/x"))).isNull();
  }

  @Test
  void a_rewritten_branch_is_not_a_fast_forward() throws Exception {
    String base = head();
    String old = commit("to be rewritten");
    git("commit", "-q", "--amend", "--allow-empty", "-m", "rewritten");
    String now = head();
    PackCommits pack = pack(now, old);
    assertThat(pack.parentsOf(now)).containsExactly(base);
    assertThat(FastForward.unproven(pack, new RefUpdate(old, now, "refs/heads/agent/x")))
        .isEqualTo(
            now.substring(0, 12)
                + " does not descend from "
                + old.substring(0, 12)
                + " within the pushed commits");
  }

  @Test
  void a_merge_of_main_into_the_branch_is_a_fast_forward_through_its_first_parent()
      throws Exception {
    String fork = head();
    git("checkout", "-q", "-b", "agent/x");
    String branch = commit("branch work");
    git("checkout", "-q", "main");
    Files.writeString(dir.resolve("MAIN"), "main moved\n");
    git("add", "MAIN");
    String main = commit("main moved");
    git("checkout", "-q", "agent/x");
    git("merge", "-q", "--no-edit", "main");
    String merge = head();
    PackCommits pack = pack(merge, branch, main); // the server has both parents
    assertThat(pack.parentsOf(merge)).containsExactly(branch, main);
    assertThat(FastForward.unproven(pack, new RefUpdate(branch, merge, "refs/heads/agent/x")))
        .isNull();
    // The same merge pushed onto main is a fast-forward of main too; onto the fork point it is not
    // provable (the server already has the path through main, not in the pack).
    assertThat(FastForward.unproven(pack, new RefUpdate(main, merge, "refs/heads/main"))).isNull();
    assertThat(FastForward.unproven(pack, new RefUpdate(fork, merge, "refs/heads/y"))).isNotNull();
  }

  @Test
  void an_empty_pack_proves_nothing() throws Exception {
    String old = head();
    String now = commit("already upstream");
    PackCommits pack = pack(now, now); // the server has the new commit: git sends no objects
    assertThat(pack.objects()).isZero();
    assertThat(FastForward.unproven(pack, new RefUpdate(old, now, "refs/heads/agent/x")))
        .contains("is not in the pushed pack");
    assertThat(
            FastForward.unproven(
                PackCommits.read(Unpooled.EMPTY_BUFFER, 40), new RefUpdate(old, now, "r")))
        .contains("is not in the pushed pack");
  }

  @Test
  void commits_stored_as_offset_or_ref_deltas_are_rebuilt() throws Exception {
    String old = head();
    // Long, nearly equal messages: pack-objects stores these commits as deltas of each other.
    String body = "x".repeat(8000);
    String now = old;
    for (int i = 0; i < 6; i++) {
      now = commit("commit " + i + "\n\n" + body);
    }
    for (boolean ofs : new boolean[] {true, false}) {
      byte[] bytes = packBytes(ofs, now, old);
      assertThat(deltaCommits(bytes)).as("commits stored as deltas (ofs=%s)", ofs).isPositive();
      PackCommits pack = PackCommits.read(Unpooled.wrappedBuffer(bytes), 40);
      assertThat(pack.commits()).isEqualTo(6);
      assertThat(pack.unresolvedDeltas()).isZero();
      assertThat(FastForward.unproven(pack, new RefUpdate(old, now, "refs/heads/agent/x")))
          .isNull();
    }
  }

  @Test
  void a_truncated_or_foreign_body_is_malformed() throws Exception {
    String old = head();
    String now = commit("one");
    byte[] bytes = packBytes(true, now, old);
    assertThatThrownBy(
            () ->
                PackCommits.read(
                    Unpooled.wrappedBuffer(Arrays.copyOf(bytes, bytes.length / 2)), 40))
        .isInstanceOf(MalformedPackException.class);
    assertThatThrownBy(
            () ->
                PackCommits.read(
                    Unpooled.wrappedBuffer("not a pack at all".getBytes(StandardCharsets.US_ASCII)),
                    40))
        .isInstanceOf(MalformedPackException.class)
        .hasMessage("the push body does not hold a pack");
    byte[] corrupt = bytes.clone();
    for (int i = 14; i < corrupt.length - 20; i++) {
      corrupt[i] ^= 0x5a;
    }
    assertThatThrownBy(() -> PackCommits.read(Unpooled.wrappedBuffer(corrupt), 40))
        .isInstanceOf(MalformedPackException.class);
  }

  @Test
  void sha256_repositories_are_read_too() throws Exception {
    Path sha = dir.resolve("sha256");
    Files.createDirectories(sha);
    run(sha, "git", "init", "-q", "--object-format=sha256", "-b", "main", ".");
    run(sha, "git", "commit", "-q", "--allow-empty", "-m", "one");
    String old = run(sha, "git", "rev-parse", "HEAD").strip();
    run(sha, "git", "commit", "-q", "--allow-empty", "-m", "two");
    String now = run(sha, "git", "rev-parse", "HEAD").strip();
    byte[] bytes = packIn(sha, true, now + "\n^" + old + "\n");
    PackCommits pack = PackCommits.read(Unpooled.wrappedBuffer(bytes), 64);
    assertThat(FastForward.unproven(pack, new RefUpdate(old, now, "refs/heads/agent/x"))).isNull();
  }

  /** How long a big push's pack takes to read: the figure behind ReceivePackGate's threshold. */
  @Test
  void reading_a_large_pack_is_measured() throws Exception {
    String old = head();
    Random random = new Random(16);
    StringBuilder text = new StringBuilder();
    String[] words = {"fast", "forward", "commit", "parent", "agent", "branch", "merge", "tree\n"};
    for (int f = 0; f < 40; f++) {
      text.setLength(0);
      while (text.length() < 512 * 1024) {
        text.append(words[random.nextInt(words.length)]).append(random.nextInt(1000)).append(' ');
      }
      Files.writeString(dir.resolve("file" + f + ".txt"), text);
    }
    byte[] noise = new byte[8 * 1024 * 1024];
    random.nextBytes(noise);
    Files.write(dir.resolve("noise.bin"), noise);
    git("add", ".");
    String now = commit("big");
    byte[] bytes = packBytes(true, now, old);
    PackCommits.read(Unpooled.wrappedBuffer(bytes), 40); // warm-up
    long started = System.nanoTime();
    PackCommits pack = PackCommits.read(Unpooled.wrappedBuffer(bytes), 40);
    long micros = (System.nanoTime() - started) / 1000;
    System.out.printf(
        "pack read: %d bytes, %d objects in %d µs (%.0f MiB/s)%n",
        bytes.length, pack.objects(), micros, bytes.length / 1.048576 / micros);
    assertThat(FastForward.unproven(pack, new RefUpdate(old, now, "refs/heads/agent/x"))).isNull();
  }

  // ------------------------------------------------------------------ helpers

  private PackCommits pack(String tip, String... serverHas) throws Exception {
    return PackCommits.read(Unpooled.wrappedBuffer(packBytes(true, tip, serverHas)), 40);
  }

  private byte[] packBytes(boolean ofsDelta, String tip, String... serverHas) throws Exception {
    StringBuilder revs = new StringBuilder(tip).append('\n');
    for (String has : serverHas) {
      revs.append('^').append(has).append('\n');
    }
    return packIn(dir, ofsDelta, revs.toString());
  }

  /** As send-pack runs it: thin, revisions on stdin, the pack on stdout. */
  private static byte[] packIn(Path repo, boolean ofsDelta, String revs) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("git", "pack-objects", "--revs", "--thin", "--stdout", "-q"));
    if (ofsDelta) {
      command.add("--delta-base-offset");
    }
    Process p = new ProcessBuilder(command).directory(repo.toFile()).start();
    p.getOutputStream().write(revs.getBytes(StandardCharsets.US_ASCII));
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getErrorStream().readAllBytes())).isZero();
    return out;
  }

  /** Commits git stored as deltas in {@code pack}, by git's own index of it. */
  private int deltaCommits(byte[] pack) throws Exception {
    Path file = dir.resolve("check.pack");
    Files.write(file, pack);
    run(dir, "git", "index-pack", "-o", dir.resolve("check.idx").toString(), file.toString());
    return (int)
        run(dir, "git", "verify-pack", "-v", dir.resolve("check.idx").toString())
            .lines()
            .filter(l -> l.matches("^[0-9a-f]{40} commit .* [0-9a-f]{40}$"))
            .count();
  }

  private String commit(String message) throws Exception {
    git("commit", "-q", "--allow-empty", "-m", message);
    return head();
  }

  private String head() throws Exception {
    return git("rev-parse", "HEAD").strip();
  }

  private String git(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("git"));
    command.addAll(List.of(args));
    return run(dir, command.toArray(String[]::new));
  }

  private static String run(Path in, String... command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).directory(in.toFile());
    builder.environment().put("GIT_AUTHOR_NAME", "t");
    builder.environment().put("GIT_AUTHOR_EMAIL", "t@example.com");
    builder.environment().put("GIT_COMMITTER_NAME", "t");
    builder.environment().put("GIT_COMMITTER_EMAIL", "t@example.com");
    builder.environment().put("GIT_CONFIG_NOSYSTEM", "1");
    builder.environment().put("HOME", in.toString());
    builder.redirectErrorStream(true);
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }
}
