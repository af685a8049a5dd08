package dev.capgate.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prometheus checks on real output: {@code promtool check metrics} (the Prometheus project's own
 * linter, built by {@code make tools}) on a /metrics answer, {@code promtool check rules} on the
 * chart's alert rules, and the metric names the chart's alerts and dashboard read, so a test can
 * hold them against what the endpoints really serve.
 */
public final class PrometheusLint {
  /** Names Capgate's components expose (its own, JOSDK's, the JVM's through Micrometer). */
  private static final Pattern METRIC =
      Pattern.compile("\\b((?:capgate|operator_sdk|jvm|process|system)_[a-zA-Z0-9_]*)\\b");

  private PrometheusLint() {}

  /**
   * {@code promtool check metrics} with {@code exposition} on stdin; exit 0 and no output: clean.
   */
  public static ProcessResult checkMetrics(String exposition) {
    return promtool(exposition, "check", "metrics");
  }

  /**
   * One component's /metrics answer against the linter: {@code promtool check metrics} must exit 0
   * and say nothing. What it said is printed (the figure the module READMEs quote).
   *
   * @param component {@code operator}, {@code sidecar}: names the output line only
   * @throws AssertionError when promtool complains
   */
  public static void checkEndpoint(String component, String exposition) {
    ProcessResult lint = checkMetrics(exposition);
    String said = lint.stdout() + lint.stderr();
    System.out.println(
        "[metrics] promtool check metrics ("
            + component
            + "): exit "
            + lint.exitCode()
            + " "
            + said);
    if (lint.exitCode() != 0 || !said.isBlank()) {
      throw new AssertionError("promtool check metrics (" + component + "): " + said);
    }
  }

  /**
   * Every metric the chart's alerts for {@code component} (their label {@code component}) and the
   * dashboard's row {@code dashboardRow} read is served in {@code exposition}.
   *
   * @param chartFiles the chart's {@code files/} folder (prometheus-rules.yaml,
   *     grafana-dashboard.json)
   * @return the component's alerts, name to expression, for a test to name the ones it expects
   * @throws AssertionError when they read nothing, or a name that is not served
   */
  public static Map<String, String> checkChartReads(
      String component, String exposition, Path chartFiles, String dashboardRow) {
    return checkChartReads(component, exposition, chartFiles, dashboardRow, Set.of());
  }

  /**
   * As {@link #checkChartReads(String, String, Path, String)}, except for {@code
   * createdOnFirstEvent}: names a library registers only when the event first happens (JOSDK's
   * failed-reconciliation counter), which a healthy run may never serve.
   */
  public static Map<String, String> checkChartReads(
      String component,
      String exposition,
      Path chartFiles,
      String dashboardRow,
      Set<String> createdOnFirstEvent) {
    Set<String> read = new TreeSet<>();
    Map<String, String> alerts =
        alertExpressions(chartFiles.resolve("prometheus-rules.yaml"), component);
    alerts.values().forEach(e -> read.addAll(metricNames(e)));
    dashboardExpressions(chartFiles.resolve("grafana-dashboard.json"), dashboardRow)
        .forEach(e -> read.addAll(metricNames(e)));
    System.out.println("[metrics] " + component + " names read by alerts and dashboard: " + read);
    if (read.isEmpty()) {
      throw new AssertionError("the chart reads no " + component + " metric");
    }
    Set<String> missing = new TreeSet<>(read);
    missing.removeAll(sampleNames(exposition));
    missing.removeAll(createdOnFirstEvent);
    if (!missing.isEmpty()) {
      throw new AssertionError(
          "read by the chart but not served by the " + component + ": " + missing);
    }
    return alerts;
  }

  /** {@code promtool check rules FILE} (PromQL syntax, rule structure). */
  public static ProcessResult checkRules(Path rules) {
    return promtool(null, "check", "rules", rules.toString());
  }

  /** The names of the samples in an exposition ({@code x_bucket}, {@code x_count} included). */
  public static Set<String> sampleNames(String exposition) {
    Set<String> names = new TreeSet<>();
    for (String line : exposition.lines().toList()) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int end = 0;
      while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
        end++;
      }
      names.add(line.substring(0, end));
    }
    return names;
  }

  /** The metric names a PromQL expression reads. */
  public static Set<String> metricNames(String promql) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(promql);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /**
   * The alerts of a Prometheus rule file ({@code groups: [{rules: [...]}]}) whose label {@code
   * component} is {@code component}: alert name to expression.
   */
  public static Map<String, String> alertExpressions(Path rulesFile, String component) {
    Map<String, String> alerts = new LinkedHashMap<>();
    for (JsonNode group : yaml(rulesFile).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        if (rule.has("alert") && component.equals(rule.path("labels").path("component").asText())) {
          alerts.put(rule.path("alert").asText(), rule.path("expr").asText());
        }
      }
    }
    return alerts;
  }

  /**
   * The expressions of a Grafana dashboard's panels under the row titled {@code row} (panels follow
   * their row in the {@code panels} list).
   */
  public static List<String> dashboardExpressions(Path dashboard, String row) {
    List<String> expressions = new ArrayList<>();
    try {
      JsonNode json = new ObjectMapper().readTree(Files.readString(dashboard));
      String current = "";
      for (JsonNode panel : json.path("panels")) {
        if ("row".equals(panel.path("type").asText())) {
          current = panel.path("title").asText();
          continue;
        }
        if (row.equals(current)) {
          panel.path("targets").forEach(t -> expressions.add(t.path("expr").asText()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return expressions;
  }

  private static JsonNode yaml(Path file) {
    try {
      return new KubernetesSerialization().unmarshal(Files.readString(file), JsonNode.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ProcessResult promtool(String stdin, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Tools.bin("promtool").toString());
    command.addAll(List.of(args));
    try {
      Process process = new ProcessBuilder(command).start();
      CompletableFuture<String> out = drain(process, false);
      CompletableFuture<String> err = drain(process, true);
      try (OutputStream in = process.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("promtool " + String.join(" ", args) + " hung");
      }
      return new ProcessResult(process.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running promtool", e);
    }
  }

  private static CompletableFuture<String> drain(Process process, boolean stderr) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new String(
                (stderr ? process.getErrorStream() : process.getInputStream()).readAllBytes(),
                StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}
