// The demo's built-in instruction dataset: (prompt, reference response) pairs from twelve task families, with an
// eval split made only of slot combinations that the train split never shows. Deterministic from the seed.
package dev.rlsr.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * Each family (an animal sentence, a fruit's color, addition, subtraction, weather, animals of a habitat, a
 * person's job, comparing numbers, opposites, objects someone keeps, a thing's category, someone's hobby)
 * enumerates its slot combinations, its <i>keys</i>, e.g. (color, animal) for "Write one sentence about a red fox
 * that lives in the forest.". For every family a fraction {@link #HELD_OUT_FRACTION} of the keys (at least two)
 * is drawn from the seed and held out: train examples use only the other keys, eval examples only held-out ones,
 * so evaluation measures following instructions about unseen combinations rather than recall.
 *
 * <p>Responses are short (at most 20 words) and repeat the entities, quantities and categories the prompt names
 * ({@link Item#slots}), so a response that follows the instruction is closer to the reference under a sentence
 * embedder than one that talks about something else. Train examples cycle through the families in order; eval
 * prompts are distinct.
 */
public final class DemoData {
  /**
   * Version of the text the demo generators (DemoData, DemoCorpus, DemoTasks, DemoWorld) produce for a seed. Bump
   * it with any change to that text: it is part of the base model's recipe, so stale models are not reused.
   */
  public static final int VERSION = 1;
  /** Seed of the shipped base model's corpus and tokenizer; use it for the demo so held-out sets agree. */
  public static final long DEFAULT_SEED = 1234;
  /** Default number of train examples. */
  public static final int TRAIN_SIZE = 3000;
  /** Default number of eval examples. */
  public static final int EVAL_SIZE = 200;
  /** Share of each family's keys held out for eval. */
  public static final double HELD_OUT_FRACTION = 0.12;
  public static final String TRAIN_FILE = "train.jsonl";
  public static final String EVAL_FILE = "eval.jsonl";

  /**
   * @param family   task family name
   * @param prompt   the instruction
   * @param response the reference response
   * @param key      the family's held-out unit, its slot values joined with "|"
   * @param slots    values named in the prompt that the response repeats
   */
  public record Item(String family, String prompt, String response, String key, List<String> slots) {}

  private final long seed;
  private final List<Item> train;
  private final List<Item> eval;

  private DemoData(long seed, List<Item> train, List<Item> eval) {
    this.seed = seed;
    this.train = List.copyOf(train);
    this.eval = List.copyOf(eval);
  }

  /** {@link #TRAIN_SIZE} train and {@link #EVAL_SIZE} eval examples. */
  public static DemoData generate(long seed) {
    return generate(seed, TRAIN_SIZE, EVAL_SIZE);
  }

  /**
   * @param evalSize eval examples wanted; fewer come back only when the held-out keys cannot make that many
   *                 distinct prompts (they can make well over a thousand)
   */
  public static DemoData generate(long seed, int trainSize, int evalSize) {
    Map<String, List<List<String>>> held = heldOut(seed);
    SplittableRandom rng = new SplittableRandom(seed);
    List<Item> train = new ArrayList<>(trainSize);
    Map<String, List<List<String>>> trainKeys = trainKeys(held);
    for (int i = 0; i < trainSize; i++) {
      DemoTasks.Family f = DemoTasks.ALL.get(i % DemoTasks.ALL.size());
      train.add(item(f, DemoWorld.pick(trainKeys.get(f.name()), rng), rng));
    }
    SplittableRandom evalRng = new SplittableRandom(seed ^ 0x5DEECE66DL);
    List<Item> eval = new ArrayList<>(evalSize);
    Set<String> prompts = new HashSet<>();
    Set<String> exhausted = new HashSet<>();
    for (int i = 0; eval.size() < evalSize && exhausted.size() < DemoTasks.ALL.size(); i++) {
      DemoTasks.Family f = DemoTasks.ALL.get(i % DemoTasks.ALL.size());
      if (exhausted.contains(f.name())) {
        continue;
      }
      Item found = null;
      for (int attempt = 0; attempt < 50 && found == null; attempt++) {
        Item it = item(f, DemoWorld.pick(held.get(f.name()), evalRng), evalRng);
        if (prompts.add(it.prompt())) {
          found = it;
        }
      }
      if (found == null) {
        exhausted.add(f.name());
      } else {
        eval.add(found);
      }
    }
    return new DemoData(seed, train, eval);
  }

  private static Item item(DemoTasks.Family f, List<String> key, SplittableRandom rng) {
    DemoTasks.Rendered r = f.make(key, rng);
    return new Item(f.name(), r.prompt(), r.response(), String.join("|", key), r.slots());
  }

  /** The held-out keys of every family for this seed, by family name. */
  public static Map<String, List<List<String>>> heldOut(long seed) {
    Map<String, List<List<String>>> out = new LinkedHashMap<>();
    for (int i = 0; i < DemoTasks.ALL.size(); i++) {
      DemoTasks.Family f = DemoTasks.ALL.get(i);
      List<List<String>> keys = new ArrayList<>(f.keys());
      Collections.shuffle(keys, new java.util.Random(seed * 31 + i));
      int n = Math.max(2, (int) Math.round(HELD_OUT_FRACTION * keys.size()));
      out.put(f.name(), List.copyOf(keys.subList(0, n)));
    }
    return out;
  }

  /** Every family's keys minus the held-out ones. */
  static Map<String, List<List<String>>> trainKeys(Map<String, List<List<String>>> held) {
    Map<String, List<List<String>>> out = new LinkedHashMap<>();
    for (DemoTasks.Family f : DemoTasks.ALL) {
      Set<List<String>> h = new HashSet<>(held.get(f.name()));
      out.put(f.name(), f.keys().stream().filter(k -> !h.contains(k)).toList());
    }
    return out;
  }

  /** Family names in their fixed order. */
  public static List<String> families() {
    return DemoTasks.ALL.stream().map(DemoTasks.Family::name).toList();
  }

  public long seed() {
    return seed;
  }

  public List<Item> train() {
    return train;
  }

  public List<Item> eval() {
    return eval;
  }

  /**
   * Share of the slot values that occur in a response as whole words, ignoring case: an interpretable accuracy
   * for the demo's tasks (1 when the response carries everything the prompt named). 0 for no slots.
   */
  public static double slotRecall(List<String> slots, String response) {
    if (slots.isEmpty()) {
      return 0;
    }
    int found = 0;
    for (String s : slots) {
      Pattern word = Pattern.compile("(?<!\\p{Alnum})" + Pattern.quote(s) + "(?!\\p{Alnum})", Pattern.CASE_INSENSITIVE);
      if (word.matcher(response).find()) {
        found++;
      }
    }
    return (double) found / slots.size();
  }

  /**
   * Writes {@code dir/train.jsonl} and {@code dir/eval.jsonl}, one {"prompt","response","family","slots"} object
   * per line (readers of {prompt, response} data ignore the extra keys).
   */
  public void write(Path dir) {
    try {
      Files.createDirectories(dir);
      writeJsonl(dir.resolve(TRAIN_FILE), train);
      writeJsonl(dir.resolve(EVAL_FILE), eval);
    } catch (IOException e) {
      throw new RlsrException(dir + ": cannot write the demo dataset: " + e.getMessage(), e);
    }
  }

  private static void writeJsonl(Path file, List<Item> items) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Item it : items) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("prompt", it.prompt());
        n.put("response", it.response());
        n.put("family", it.family());
        var slots = n.putArray("slots");
        it.slots().forEach(slots::add);
        w.write(Json.MAPPER.writeValueAsString(n));
        w.write('\n');
      }
    }
  }
}
