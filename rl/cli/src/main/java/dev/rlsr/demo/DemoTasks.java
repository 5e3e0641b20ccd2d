// The demo's instruction task families: each enumerates its slot combinations ("keys", the unit the held-out
// split withholds), renders an instruction and its reference response, and a plain statement for the corpus. The
// families themselves are in SentenceTasks, FactTasks and NumberTasks; this holds their interface and fixed order.
package dev.rlsr.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The twelve families; {@link #ALL} is their fixed order. */
final class DemoTasks {
  private DemoTasks() {}

  /** A prompt, its reference response and the prompt's slot values the response must repeat. */
  record Rendered(String prompt, String response, List<String> slots) {}

  /** One task family. Keys are lists of slot values; the other slots of an example are drawn from the rng. */
  interface Family {
    String name();

    List<List<String>> keys();

    Rendered make(List<String> key, SplittableRandom rng);

    /** A plain-text sentence about the same combination, as it could appear in ordinary prose. */
    String statement(List<String> key, SplittableRandom rng);
  }

  static final List<Family> ALL = List.of(
      new SentenceTasks.AnimalSentence(), new FactTasks.FruitColor(), new NumberTasks.Addition(),
      new NumberTasks.Subtraction(), new SentenceTasks.Weather(), new FactTasks.HabitatList(),
      new SentenceTasks.PersonJob(), new NumberTasks.Compare(), new FactTasks.Opposite(),
      new SentenceTasks.OwnsItems(), new FactTasks.Category(), new SentenceTasks.LikesActivity());

  static List<List<String>> product(List<String> a, List<String> b) {
    List<List<String>> out = new ArrayList<>();
    for (String x : a) {
      for (String y : b) {
        out.add(List.of(x, y));
      }
    }
    return out;
  }

  static List<String> numbers(int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i <= to; i++) {
      out.add(Integer.toString(i));
    }
    return out;
  }

  static String oneOf(SplittableRandom rng, String... options) {
    return options[rng.nextInt(options.length)];
  }
}
