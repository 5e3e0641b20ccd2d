// Test helper: a directory tree as relative path -> SHA-256 of the file (or "dir"), to show that a refused
// command changed nothing.
package dev.rlsr.cli;

import dev.rlsr.policy.util.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

final class Trees {
  private Trees() {}

  static Map<String, String> snapshot(Path root) {
    Map<String, String> m = new TreeMap<>();
    if (!Files.exists(root)) {
      return m;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.toList()) {
        m.put(root.relativize(p).toString(), Files.isDirectory(p) ? "dir" : FileTrees.sha256(p));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return m;
  }
}
