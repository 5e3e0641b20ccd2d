// Test helper: files of ../shared/data (real instruction data beside the repository; CI has it, a user's clone
// does not), found by walking up from the working directory.
package dev.rlsr.policy.testing;

import java.nio.file.Files;
import java.nio.file.Path;

public final class SharedData {
  private SharedData() {}

  /** shared/data/NAME under the nearest ancestor of the working directory that has it, or null when absent. */
  public static Path find(String name) {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared/data").resolve(name);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /** shared/tokenizers/NAME (a real model's tokenizer files beside the repository), or null when absent. */
  public static Path tokenizer(String name) {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared/tokenizers").resolve(name);
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
