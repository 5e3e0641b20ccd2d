// AvailableMemory on made-up /proc and cgroup trees (v2 with and without a limit, v1, none) and the --memory-limit
// sizes it parses.
package dev.rlsr.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AvailableMemoryTest {
  static final long KIB = 1024;
  static final long GIB = 1L << 30;
  @TempDir Path tmp;

  private Path proc(long memAvailableKib, long selfRssKib, String cgroupLine) throws Exception {
    Path proc = tmp.resolve("proc");
    Files.createDirectories(proc.resolve("self"));
    Files.writeString(proc.resolve("meminfo"), "MemTotal:       24683664 kB\nMemFree:        21523292 kB\n"
        + "MemAvailable:   " + memAvailableKib + " kB\n");
    Files.writeString(proc.resolve("self/status"), "Name:\tjava\nVmRSS:\t  " + selfRssKib + " kB\n");
    Files.writeString(proc.resolve("self/cgroup"), cgroupLine + "\n");
    return proc;
  }

  private Path file(String path, String content) throws Exception {
    Path f = tmp.resolve(path);
    Files.createDirectories(f.getParent());
    Files.writeString(f, content);
    return f;
  }

  @Test
  void withoutACgroupLimitItIsMemAvailablePlusThisProcess() throws Exception {
    Path proc = proc(20 * GIB / KIB, GIB / KIB, "0::/");
    file("cg/memory.max", "max\n");
    AvailableMemory a = AvailableMemory.detect(proc, tmp.resolve("cg"));
    assertThat(a.bytes()).isEqualTo(21 * GIB);
    assertThat(a.source()).isEqualTo("MemAvailable");
  }

  @Test
  void aCgroupV2LimitBelowMemAvailableBoundsItLessWhatTheGroupUsesButNotItsDroppableCache() throws Exception {
    Path proc = proc(20 * GIB / KIB, GIB / KIB, "0::/job");
    file("cg/job/memory.max", (8 * GIB) + "\n");
    file("cg/job/memory.current", (3 * GIB) + "\n");
    file("cg/job/memory.stat", "anon 1\ninactive_file " + GIB + "\nactive_file 5\n");
    AvailableMemory a = AvailableMemory.detect(proc, tmp.resolve("cg"));
    assertThat(a.bytes()).isEqualTo(8 * GIB - 2 * GIB + GIB);
    assertThat(a.source()).isEqualTo("cgroup memory.max 8.0 GiB less 2.0 GiB in use");
  }

  @Test
  void aCgroupV1LimitCountsAndItsNoLimitValueDoesNot() throws Exception {
    Path proc = proc(20 * GIB / KIB, 0, "12:memory:/\n11:cpu,cpuacct:/");
    file("cg/memory/memory.limit_in_bytes", "9223372036854771712\n");
    file("cg/memory/memory.usage_in_bytes", "123\n");
    assertThat(AvailableMemory.detect(proc, tmp.resolve("cg")).bytes()).isEqualTo(20 * GIB);
    file("cg/memory/memory.limit_in_bytes", (4 * GIB) + "\n");
    file("cg/memory/memory.usage_in_bytes", GIB + "\n");
    file("cg/memory/memory.stat", "total_inactive_file 0\n");
    AvailableMemory a = AvailableMemory.detect(proc, tmp.resolve("cg"));
    assertThat(a.bytes()).isEqualTo(3 * GIB);
    assertThat(a.source()).startsWith("cgroup memory.limit_in_bytes 4.0 GiB");
  }

  @Test
  void withoutProcItIsUnknown() {
    AvailableMemory a = AvailableMemory.detect(tmp.resolve("nothing"), tmp.resolve("nothing"));
    assertThat(a.known()).isFalse();
  }

  @Test
  void thisMachineHasSomeMemory() {
    AvailableMemory a = AvailableMemory.detect();
    if (Files.isRegularFile(Path.of("/proc/meminfo"))) {
      assertThat(a.bytes()).isPositive();
    }
  }

  @Test
  void sizesAreBinaryAndTheUnitMayBeSpelledOut() {
    assertThat(AvailableMemory.parseSize("20g")).isEqualTo(20 * GIB);
    assertThat(AvailableMemory.parseSize("512m")).isEqualTo(512L << 20);
    assertThat(AvailableMemory.parseSize("1.5GiB")).isEqualTo(3 * GIB / 2);
    assertThat(AvailableMemory.parseSize("64K")).isEqualTo(64 * KIB);
    assertThat(AvailableMemory.parseSize("4096")).isEqualTo(4096);
    for (String bad : new String[] {"", "g", "20 gigs", "-1g", "0", "1e9"}) {
      assertThatThrownBy(() -> AvailableMemory.parseSize(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("such as 20g");
    }
  }
}
