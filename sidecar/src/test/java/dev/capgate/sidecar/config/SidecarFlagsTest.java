package dev.capgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.common.cli.Flag;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every setting the proxy or init reads is a declared flag: SidecarConfig refuses to read an
 * undeclared one at run time, so this finds the reads in the sources (config.get("name"),
 * getInt/getBoolean/getPath/getDuration, and every CAPGATE_* the contract names) before a pod
 * would.
 */
class SidecarFlagsTest {
  private static final Pattern READ =
      Pattern.compile(
          "config\\s*\\.(?:get|getInt|getBoolean|getPath|getDuration)\\(\\s*\"([a-z0-9-]+)\"");

  @Test
  void every_name_read_in_the_sources_is_a_proxy_flag() throws IOException {
    Set<String> read = new TreeSet<>();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java/dev/capgate/sidecar"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        Matcher m = READ.matcher(Files.readString(file));
        while (m.find()) {
          read.add(m.group(1));
        }
      }
    }
    Set<String> declared = SidecarFlags.PROXY.stream().map(Flag::name).collect(Collectors.toSet());
    read.remove("log-level");
    assertThat(read).isNotEmpty().allSatisfy(name -> assertThat(declared).contains(name));
  }

  /** The contract's settings (what the webhook sets, InjectedSettings reads) are all flags. */
  @Test
  void every_contract_variable_the_proxy_reads_is_a_flag() throws IllegalAccessException {
    Set<String> declared =
        Stream.concat(SidecarFlags.PROXY.stream(), SidecarFlags.INIT.stream())
            .map(Flag::env)
            .collect(Collectors.toSet());
    for (Field f : SidecarContract.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers())
          && f.getName().startsWith("ENV_")
          && !f.getName().equals("ENV_PREFIX")) {
        assertThat(declared).as(f.getName()).contains((String) f.get(null));
      }
    }
  }

  /** The variable a flag stands for is the contract's name for it (the webhook sets those). */
  @Test
  void a_flags_variable_is_the_contracts() {
    Stream.concat(SidecarFlags.PROXY.stream(), SidecarFlags.INIT.stream())
        .forEach(f -> assertThat(f.env()).isEqualTo(SidecarContract.envOf(f.name())));
  }

  @Test
  void names_are_unique_per_mode() {
    for (var flags : java.util.List.of(SidecarFlags.PROXY, SidecarFlags.INIT)) {
      assertThat(flags.stream().map(Flag::name)).doesNotHaveDuplicates();
    }
  }
}
