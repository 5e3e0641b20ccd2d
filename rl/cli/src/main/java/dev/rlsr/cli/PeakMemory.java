// Peak resident memory of this process (VmHWM in /proc/self/status): what /usr/bin/time -v reports as the
// maximum resident set size, counting TensorFlow's and ONNX Runtime's native allocations, not only the Java heap.
package dev.rlsr.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

final class PeakMemory {
  private PeakMemory() {}

  /** Peak resident bytes so far, or -1 where /proc is not there. */
  static long peakResidentBytes() {
    return statusKb("VmHWM:");
  }

  /** Resident bytes now, or -1. */
  static long residentBytes() {
    return statusKb("VmRSS:");
  }

  private static long statusKb(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  static String gib(long bytes) {
    return bytes < 0 ? "n/a" : String.format("%.2f GiB", bytes / (double) (1L << 30));
  }
}
