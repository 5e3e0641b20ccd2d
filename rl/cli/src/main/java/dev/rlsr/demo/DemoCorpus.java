// Pretraining text for the demo's base model: short paragraphs of plain statements about the demo world
// (no instruction template), so the base model learns the language and facts but not to follow instructions.
package dev.rlsr.demo;

import dev.rlsr.policy.util.RlsrException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A document is {@link #MIN_SENTENCES} to {@link #MAX_SENTENCES} sentences joined by spaces, each a
 * {@linkplain DemoTasks.Family#statement statement} of a random family about one of its <i>train</i> keys: the
 * combinations {@link DemoData} holds out for eval (for the same seed) never appear, so eval references are
 * unseen text for the base model too. About one sentence in {@link #REFER_BACK} returns to a combination named
 * earlier in the document ("The red fox lives in the forest. ... We saw a red fox near the river."), as prose
 * does, which teaches the model to carry entities from its context forward.
 */
public final class DemoCorpus {
  public static final int MIN_SENTENCES = 3;
  public static final int MAX_SENTENCES = 6;
  /** One sentence in this many (after the first) talks again about a combination the document already named. */
  static final int REFER_BACK = 3;

  private DemoCorpus() {}

  /** {@code n} documents, deterministic from the seed. */
  public static List<String> generate(long seed, int n) {
    Map<String, List<List<String>>> keys = DemoData.trainKeys(DemoData.heldOut(seed));
    SplittableRandom rng = new SplittableRandom(seed + 0x9E3779B97F4A7C15L);
    List<String> docs = new ArrayList<>(n);
    for (int d = 0; d < n; d++) {
      int sentences = MIN_SENTENCES + rng.nextInt(MAX_SENTENCES - MIN_SENTENCES + 1);
      StringBuilder sb = new StringBuilder();
      List<DemoTasks.Family> families = new ArrayList<>();
      List<List<String>> mentioned = new ArrayList<>();
      for (int s = 0; s < sentences; s++) {
        if (s > 0) {
          sb.append(' ');
        }
        if (s > 0 && rng.nextInt(REFER_BACK) == 0) {
          int j = rng.nextInt(families.size());
          sb.append(families.get(j).statement(mentioned.get(j), rng));
        } else {
          DemoTasks.Family f = DemoWorld.pick(DemoTasks.ALL, rng);
          List<String> key = DemoWorld.pick(keys.get(f.name()), rng);
          families.add(f);
          mentioned.add(key);
          sb.append(f.statement(key, rng));
        }
      }
      docs.add(sb.toString());
    }
    return docs;
  }

  /** Writes documents one per line (the format {@code rlsr pretrain --corpus} reads, see
   * {@link dev.rlsr.pretrain.TextCorpus}). */
  public static void write(Path file, List<String> documents) {
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        for (String d : documents) {
          w.write(d);
          w.write('\n');
        }
      }
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot write the corpus: " + e.getMessage(), e);
    }
  }
}
