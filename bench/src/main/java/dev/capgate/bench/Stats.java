package dev.capgate.bench;

import java.util.Arrays;
import java.util.List;

/** Percentiles (nearest rank) of a sample. */
final class Stats {
  private final double[] sorted;

  Stats(double[] values) {
    this.sorted = values.clone();
    Arrays.sort(sorted);
  }

  static Stats of(List<? extends Number> values) {
    return new Stats(values.stream().mapToDouble(Number::doubleValue).toArray());
  }

  int count() {
    return sorted.length;
  }

  /**
   * @param p in [0, 100]
   */
  double percentile(double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  double max() {
    return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
  }

  double mean() {
    return Arrays.stream(sorted).average().orElse(Double.NaN);
  }
}
