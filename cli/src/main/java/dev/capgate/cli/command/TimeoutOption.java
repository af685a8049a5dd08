package dev.capgate.cli.command;

import dev.capgate.api.v1alpha1.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;

/** {@code --timeout 60s}: the API's duration grammar (2h, 10m, 1h30m, 30s). */
final class TimeoutOption implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    return Durations.parse(value);
  }
}
