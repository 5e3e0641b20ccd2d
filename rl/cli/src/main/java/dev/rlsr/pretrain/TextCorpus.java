// Reads a pretraining corpus: UTF-8 text, one document per line (a sentence or a short paragraph).
package dev.rlsr.pretrain;

import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

public final class TextCorpus {
  private TextCorpus() {}

  /** The file's non-blank lines, each one training document. */
  public static List<String> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new RlsrException(file + ": corpus file not found");
    }
    List<String> docs;
    try {
      docs = Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read the corpus as UTF-8 text (one document per line): "
          + e.getMessage(), e);
    }
    if (docs.isEmpty()) {
      throw new RlsrException(file + ": the corpus is empty (expected one document per line)");
    }
    return docs;
  }
}
