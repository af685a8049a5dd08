package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.TestClassPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capgate-sidecar} as a process (its real {@code Main}): the exit codes of the command line,
 * and that a pod's command line (the mode alone, settings from CAPGATE_*) never loads picocli
 * (issue 13: the classes a sidecar loads at start).
 */
class MainCommandLineTest {
  @TempDir Path dir;

  record Result(int code, String stdout, String stderr, String classes) {}

  private Result run(Map<String, String> env, String... args) throws Exception {
    Path out = dir.resolve("out"), err = dir.resolve("err"), classes = dir.resolve("classes");
    List<String> command =
        TestClassPath.javaCommand(
            "dev.capgate.sidecar.Main", "-Xlog:class+load=info:file=" + classes);
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("CAPGATE_"));
    builder.environment().putAll(env);
    Process p = builder.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(
        p.exitValue(), Files.readString(out), Files.readString(err), Files.readString(classes));
  }

  @Test
  void help_is_exit_0_on_stdout() throws Exception {
    Result help = run(Map.of(), "proxy", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.stdout()).contains("--session-file", "CAPGATE_SESSION_FILE", "--idle-timeout");
    assertThat(help.stderr()).isBlank();
  }

  @Test
  void an_unknown_flag_is_exit_64_naming_it() throws Exception {
    Result unknown = run(Map.of(), "init", "--proxy-prot", "14001");
    assertThat(unknown.code()).isEqualTo(64);
    assertThat(unknown.stderr()).contains("Unknown option", "--proxy-prot", "init --help");
  }

  /**
   * As the webhook starts it: the mode, and a (here malformed) CAPGATE_ setting, refused as a usage
   * error all the same; picocli was not loaded on the way.
   */
  @Test
  void a_pods_command_line_does_not_load_the_parser() throws Exception {
    Result pod = run(Map.of("CAPGATE_LOG_LEVEL", "verbose"), "proxy");
    assertThat(pod.code()).isEqualTo(64);
    assertThat(pod.stderr()).contains("log level must be one of");
    assertThat(pod.classes())
        .contains("dev.capgate.sidecar.ProxyCommand")
        .doesNotContain("picocli");
    Result flags = run(Map.of(), "proxy", "--peek-timeout", "250");
    assertThat(flags.code()).isEqualTo(64);
    assertThat(flags.classes()).contains("picocli.CommandLine");
  }
}
