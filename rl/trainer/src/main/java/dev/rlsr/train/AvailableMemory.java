// The memory a run may use, for its memory plan: the size given with --memory-limit, or MemAvailable of
// /proc/meminfo bounded by the cgroup's limit (v2 memory.max, v1 memory.limit_in_bytes) less what the cgroup uses.
package dev.rlsr.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * @param bytes  what the run may use, this process's own resident memory included (the plan counts it); -1 when
 *               nothing could be read (not Linux): the plan is then printed but not enforced
 * @param source where the figure comes from, for messages ("MemAvailable", "--memory-limit 20g", ...)
 */
public record AvailableMemory(long bytes, String source) {
  /** The default of --memory-limit: detect. */
  public static final String AUTO = "auto";

  /** Cgroup v1's "no limit" is a page-rounded Long.MAX_VALUE; anything above this is no limit. */
  private static final long NO_LIMIT = 1L << 60;
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(?:i?b)?",
      Pattern.CASE_INSENSITIVE);

  public boolean known() {
    return bytes >= 0;
  }

  /** The size the user stated ({@code --memory-limit 20g}). */
  public static AvailableMemory stated(long bytes, String given) {
    return new AvailableMemory(bytes, "--memory-limit " + given);
  }

  /** What this machine (or container) has free now. */
  public static AvailableMemory detect() {
    return detect(Path.of("/proc"), Path.of("/sys/fs/cgroup"));
  }

  /**
   * MemAvailable (plus this process's resident set, which the plan counts as part of the run), bounded by the
   * cgroup's limit less its usage (page cache it may drop, inactive_file, not counted as used).
   *
   * @param proc   /proc (meminfo, self/status, self/cgroup)
   * @param cgroup the cgroup file system's mount (/sys/fs/cgroup)
   */
  static AvailableMemory detect(Path proc, Path cgroup) {
    long memAvailable = field(read(proc.resolve("meminfo")), "MemAvailable");
    if (memAvailable < 0) {
      return new AvailableMemory(-1, "no MemAvailable in " + proc.resolve("meminfo"));
    }
    long self = Math.max(0, field(read(proc.resolve("self/status")), "VmRSS"));
    long best = memAvailable + self;
    String source = "MemAvailable";
    for (Limit l : java.util.Arrays.asList(v2(proc, cgroup), v1(proc, cgroup))) {
      if (l != null && l.limit < NO_LIMIT) {
        long free = Math.max(0, l.limit - Math.max(0, l.usage - l.inactiveFile)) + self;
        if (free < best) {
          best = free;
          source = "cgroup " + l.file + " " + MemoryPlan.gib(l.limit) + " GiB less "
              + MemoryPlan.gib(Math.max(0, l.usage - l.inactiveFile)) + " GiB in use";
        }
      }
    }
    return new AvailableMemory(best, source);
  }

  private record Limit(String file, long limit, long usage, long inactiveFile) {}

  /** Cgroup v2: memory.max, memory.current and memory.stat's inactive_file, of this process's group or the root. */
  private static Limit v2(Path proc, Path cgroup) {
    Path dir = groupDir(proc, cgroup, "0::", "memory.max");
    if (dir == null) {
      return null;
    }
    String max = read(dir.resolve("memory.max")).trim();
    if (max.equals("max") || max.isEmpty()) {
      return null;
    }
    return new Limit("memory.max", parse(max), parse(read(dir.resolve("memory.current")).trim()),
        stat(read(dir.resolve("memory.stat")), "inactive_file"));
  }

  /** Cgroup v1: memory/memory.limit_in_bytes, memory.usage_in_bytes and memory.stat's total_inactive_file. */
  private static Limit v1(Path proc, Path cgroup) {
    Path dir = groupDir(proc, cgroup.resolve("memory"), null, "memory.limit_in_bytes");
    if (dir == null) {
      return null;
    }
    return new Limit("memory.limit_in_bytes", parse(read(dir.resolve("memory.limit_in_bytes")).trim()),
        parse(read(dir.resolve("memory.usage_in_bytes")).trim()),
        stat(read(dir.resolve("memory.stat")), "total_inactive_file"));
  }

  /**
   * The directory of this process's group holding {@code file}: the path /proc/self/cgroup names under
   * {@code root} (v2: the line "0::/path"; v1: the line whose controllers include memory), else {@code root} itself
   * (a container sees its own group there).
   */
  private static Path groupDir(Path proc, Path root, String v2Prefix, String file) {
    for (String line : read(proc.resolve("self/cgroup")).split("\n")) {
      String path = null;
      if (v2Prefix != null && line.startsWith(v2Prefix)) {
        path = line.substring(v2Prefix.length());
      } else if (v2Prefix == null) {
        String[] f = line.split(":", 3);
        if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
          path = f[2];
        }
      }
      if (path != null) {
        Path dir = root.resolve(path.startsWith("/") ? path.substring(1) : path);
        if (Files.isRegularFile(dir.resolve(file))) {
          return dir;
        }
      }
    }
    return Files.isRegularFile(root.resolve(file)) ? root : null;
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** "MemAvailable:   24183572 kB" -> bytes; -1 when absent. */
  private static long field(String text, String key) {
    Matcher m = Pattern.compile("(?m)^" + key + ":\\s*(\\d+)\\s*kB").matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
  }

  /** "inactive_file 1234" of memory.stat; 0 when absent. */
  private static long stat(String text, String key) {
    Matcher m = Pattern.compile("(?m)^" + key + "\\s+(\\d+)").matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static long parse(String digits) {
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * A size as --memory-limit takes it: a number with an optional binary unit, {@code 20g}, {@code 512m},
   * {@code 1.5GiB}, {@code 4096} (bytes).
   *
   * @throws IllegalArgumentException for anything else, or zero
   */
  public static long parseSize(String s) {
    Matcher m = SIZE.matcher(s.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a size such as 20g, 512m or 1.5g (binary units k, m, g, t), or "
          + AUTO + ", got '" + s + "'");
    }
    int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      case "t" -> 40;
      default -> 0;
    };
    double bytes = Double.parseDouble(m.group(1)) * (1L << shift);
    if (bytes < 1 || bytes >= Long.MAX_VALUE) {
      throw new IllegalArgumentException("expected a size above zero such as 20g or 512m, got '" + s + "'");
    }
    return (long) bytes;
  }
}
