package dev.capgate.bench;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One part of the run: prints the load average when it starts and ends (readers judge the noise
 * from it), collects its tables and its figures for results.json.
 */
final class Section {
  final String name;
  final JsonObject json = new JsonObject();
  final List<Table> tables = new ArrayList<>();
  private final Instant started = Instant.now();

  Section(String name) {
    this.name = name;
    String load = Proc.loadAverage();
    json.put("loadAverageAtStart", load);
    json.put("startedAt", started.toString());
    Bench.say("== " + name + " == (load average at start: " + load + ")");
  }

  Table add(Table table) {
    tables.add(table);
    System.out.print(table.render());
    System.out.flush();
    return table;
  }

  void end() {
    String load = Proc.loadAverage();
    json.put("loadAverageAtEnd", load);
    json.put("seconds", Duration.between(started, Instant.now()).toMillis() / 1000.0);
    Bench.say(
        "== "
            + name
            + " done in "
            + Duration.between(started, Instant.now()).toSeconds()
            + " s == (load average at end: "
            + load
            + ")");
  }
}
