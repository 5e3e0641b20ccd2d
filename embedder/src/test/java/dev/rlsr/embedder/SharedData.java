// Test helper: finds ../shared/data (walking up from the working directory) and reads alpaca-5k responses.
package dev.rlsr.embedder;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

final class SharedData {
  private SharedData() {}

  /** The alpaca-5k file's "response" fields; skips the test (JUnit assumption) when shared/data is absent. */
  static List<String> alpacaResponses(String file) {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("shared").resolve("data"))) {
      dir = dir.getParent();
    }
    assumeTrue(dir != null, "shared/data not found above the working directory: test skipped");
    Path path = dir.resolve("shared/data/alpaca-5k").resolve(file);
    assumeTrue(Files.isRegularFile(path), path + " is absent: test skipped");
    ObjectMapper mapper = new ObjectMapper();
    List<String> responses = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(path)) {
        if (!line.isBlank()) {
          responses.add(mapper.readTree(line).get("response").asText());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return responses;
  }
}
