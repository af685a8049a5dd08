package dev.capgate.cli.command;

import dev.capgate.api.v1alpha1.Durations;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * {@code --timeout 60s} of the verbs that wait for the operator ({@code revoke}, {@code recover}),
 * a picocli mixin: the API's duration grammar (2h, 10m, 1h30m, 30s), 60 s by default.
 */
public final class TimeoutOption {
  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = ApiDuration.class,
      description = "How long to wait for the operator (default: ${DEFAULT-VALUE}).",
      defaultValue = "60s")
  Duration timeout;

  /** True when {@code done} became true within the timeout ({@link Waiting#until}). */
  boolean waitUntil(BooleanSupplier done) throws InterruptedException {
    return Waiting.until(timeout, done);
  }

  /** The timeout in whole seconds, as the verbs' messages say it. */
  long seconds() {
    return timeout.toSeconds();
  }

  static final class ApiDuration implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Durations.parse(value);
    }
  }
}
