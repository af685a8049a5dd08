package dev.capgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What /proc says about a process (and its descendants: Squid's certificate helpers count as
 * Squid): CPU time from {@code /proc/<pid>/stat} utime+stime, resident memory from {@code
 * /proc/<pid>/status} VmRSS, and the machine's load average.
 */
final class Proc {
  /** USER_HZ: the unit of utime and stime; 100 on every Linux this runs on. */
  private static final double TICKS_PER_SECOND = 100.0;

  private Proc() {}

  /** utime + stime of {@code pid} and its live descendants, in seconds. */
  static double cpuSeconds(long pid) {
    double total = 0;
    for (long p : tree(pid)) {
      total += ownCpuSeconds(p);
    }
    return total;
  }

  static double ownCpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long utime = Long.parseLong(f[11]);
      long stime = Long.parseLong(f[12]);
      return (utime + stime) / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return 0; // gone
    }
  }

  /** VmRSS of {@code pid} and its live descendants, in MiB. */
  static double rssMiB(long pid) {
    double total = 0;
    for (long p : tree(pid)) {
      total += ownRssKiB(p) / 1024.0;
    }
    return total;
  }

  static long ownRssKiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return 0;
  }

  static List<Long> tree(long pid) {
    List<Long> pids = new ArrayList<>();
    pids.add(pid);
    ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
    return pids;
  }

  /** The 1, 5 and 15 minute load averages, as /proc/loadavg has them. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  static double load1() {
    try {
      return Double.parseDouble(loadAverage().split(" ")[0]);
    } catch (RuntimeException e) {
      return -1;
    }
  }

  static String fmt(double value, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", value);
  }
}
