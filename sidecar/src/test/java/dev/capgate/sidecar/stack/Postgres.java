package dev.capgate.sidecar.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL cluster (Debian's {@code postgresql} package: {@code apt-get install -y
 * postgresql}) under a temporary directory, run as the {@code postgres} user, listening on a free
 * loopback port with password authentication, for Vault's database secrets engine.
 */
public final class Postgres implements AutoCloseable {
  private final Path dir;
  private final Path bin;
  private final int port;
  private final String superPassword = "pg-" + UUID.randomUUID();

  private Postgres(Path dir, Path bin, int port) {
    this.dir = dir;
    this.bin = bin;
    this.port = port;
  }

  public static Postgres start() {
    Path bin = binDir();
    try {
      Path dir = Files.createTempDirectory("capgate-pg-");
      Postgres pg = new Postgres(dir, bin, freePort());
      pg.init();
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public String superuser() {
    return "postgres";
  }

  public String superPassword() {
    return superPassword;
  }

  /** A Vault connection URL with the {{username}}/{{password}} placeholders. */
  public String vaultConnectionUrl() {
    return "postgresql://{{username}}:{{password}}@127.0.0.1:" + port + "/postgres?sslmode=disable";
  }

  private void init() throws IOException {
    Path data = dir.resolve("data");
    Path pwfile = Files.writeString(dir.resolve("pw"), superPassword + "\n");
    run(List.of("chown", "-R", "postgres:postgres", dir.toString()), Map.of());
    asPostgres(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.toString(),
            "--username=postgres",
            "--pwfile=" + pwfile,
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--no-sync"));
    asPostgres(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-l",
            dir.resolve("postgres.log").toString(),
            "-w",
            "-t",
            "60",
            "-o",
            "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off",
            "start"));
  }

  /** Runs SQL as the superuser over the Unix socket; returns the unaligned, tuples-only output. */
  public String sql(String statement) {
    return asPostgres(
            List.of(
                bin.resolve("psql").toString(),
                "-h",
                dir.toString(),
                "-p",
                String.valueOf(port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-Atc",
                statement))
        .strip();
  }

  /** Whether {@code user}/{@code password} can log in over TCP (password authentication). */
  public boolean canLogIn(String user, String password) {
    List<String> cmd =
        List.of(
            bin.resolve("psql").toString(),
            "-h",
            "127.0.0.1",
            "-p",
            String.valueOf(port),
            "-U",
            user,
            "-d",
            "postgres",
            "-w",
            "-Atc",
            "select 1");
    return exec(cmd, Map.of("PGPASSWORD", password)).exit == 0;
  }

  public boolean roleExists(String role) {
    return sql("select count(*) from pg_roles where rolname = '" + role.replace("'", "''") + "'")
        .equals("1");
  }

  private String asPostgres(List<String> cmd) {
    List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    full.addAll(cmd);
    return run(full, Map.of());
  }

  private static String run(List<String> cmd, Map<String, String> env) {
    Result r = exec(cmd, env);
    if (r.exit != 0) {
      throw new IllegalStateException(
          String.join(" ", cmd) + " failed (" + r.exit + "): " + r.output);
    }
    return r.output;
  }

  private record Result(int exit, String output) {}

  private static Result exec(List<String> cmd, Map<String, String> env) {
    try {
      ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
      builder.environment().putAll(env);
      Process p = builder.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " timed out");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The newest installed PostgreSQL's binaries. */
  private static Path binDir() {
    try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")))
          .max(
              Comparator.comparing(
                  b ->
                      Integer.parseInt(
                          b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
          .orElseThrow();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "PostgreSQL is not installed: apt-get install -y postgresql", e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    }
  }

  @Override
  public void close() {
    try {
      asPostgres(
          List.of(
              bin.resolve("pg_ctl").toString(),
              "-D",
              dir.resolve("data").toString(),
              "-m",
              "immediate",
              "-w",
              "stop"));
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // a leftover temp dir is harmless
      }
    }
  }

  @Override
  public String toString() {
    return "Postgres[port=" + port + ", dir=" + dir + "]";
  }
}
