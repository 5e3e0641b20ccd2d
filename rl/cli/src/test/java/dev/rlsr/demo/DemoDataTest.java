// The demo dataset and corpus: deterministic from the seed, eval made of slot combinations train never shows,
// responses that repeat the prompt's slot values, correct arithmetic, and a corpus without instruction templates.
package dev.rlsr.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.JsonlDataset;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoDataTest {
  @TempDir Path tmp;

  private static final DemoData DATA = DemoData.generate(DemoData.DEFAULT_SEED);

  @Test
  void sameSeedSameDataOtherSeedOtherData() {
    DemoData again = DemoData.generate(DemoData.DEFAULT_SEED);
    assertThat(again.train()).isEqualTo(DATA.train());
    assertThat(again.eval()).isEqualTo(DATA.eval());
    DemoData other = DemoData.generate(99);
    assertThat(other.train()).isNotEqualTo(DATA.train());
    assertThat(DemoData.heldOut(99)).isNotEqualTo(DemoData.heldOut(1234));
  }

  @Test
  void sizesAndEveryFamilyInBothSplits() {
    assertThat(DATA.train()).hasSize(DemoData.TRAIN_SIZE);
    assertThat(DATA.eval()).hasSize(DemoData.EVAL_SIZE);
    assertThat(DemoData.families()).hasSize(12);
    assertThat(DATA.train().stream().map(DemoData.Item::family).collect(Collectors.toSet()))
        .containsExactlyInAnyOrderElementsOf(DemoData.families());
    assertThat(DATA.eval().stream().map(DemoData.Item::family).collect(Collectors.toSet()))
        .containsExactlyInAnyOrderElementsOf(DemoData.families());
    assertThat(DATA.eval().stream().map(DemoData.Item::prompt).distinct().count()).isEqualTo(DATA.eval().size());
  }

  @Test
  void evalCombinationsAreUnseenInTrain() {
    Set<String> trainKeys = DATA.train().stream().map(i -> i.family() + "/" + i.key()).collect(Collectors.toSet());
    Set<String> trainPrompts = DATA.train().stream().map(DemoData.Item::prompt).collect(Collectors.toSet());
    for (DemoData.Item it : DATA.eval()) {
      assertThat(trainKeys).as(it.prompt()).doesNotContain(it.family() + "/" + it.key());
      assertThat(trainPrompts).doesNotContain(it.prompt());
    }
    // the held-out unit is the combination, not its parts: the color and animal of an eval animal sentence both
    // occur in train, just never together
    List<DemoData.Item> animals = DATA.train().stream().filter(i -> i.family().equals("animal_sentence")).toList();
    DemoData.Item held = DATA.eval().stream().filter(i -> i.family().equals("animal_sentence")).findFirst().orElseThrow();
    String[] colorAnimal = held.key().split("\\|");
    assertThat(animals).anyMatch(i -> i.key().startsWith(colorAnimal[0] + "|"));
    assertThat(animals).anyMatch(i -> i.key().endsWith("|" + colorAnimal[1]));
  }

  @Test
  void responsesAreShortAndRepeatThePromptsSlotValues() {
    for (List<DemoData.Item> split : List.of(DATA.train(), DATA.eval())) {
      for (DemoData.Item it : split) {
        assertThat(it.response().split(" ")).as(it.response()).hasSizeLessThanOrEqualTo(20);
        assertThat(it.slots()).as(it.prompt()).isNotEmpty();
        for (String slot : it.slots()) {
          Pattern word = Pattern.compile("(?<![A-Za-z0-9])" + Pattern.quote(slot) + "(?![A-Za-z0-9])");
          assertThat(word.matcher(it.prompt()).find()).as(it.prompt() + " names " + slot).isTrue();
          assertThat(word.matcher(it.response()).find()).as(it.response() + " repeats " + slot).isTrue();
        }
      }
    }
  }

  @Test
  void slotRecallCountsWholeWordsIgnoringCase() {
    List<String> slots = List.of("red", "fox", "forest");
    assertThat(DemoData.slotRecall(slots, "The red fox lives in the forest.")).isEqualTo(1.0);
    assertThat(DemoData.slotRecall(slots, "RED FOX!")).isEqualTo(2.0 / 3);
    assertThat(DemoData.slotRecall(slots, "The redder foxes live in forests.")).isZero();
    assertThat(DemoData.slotRecall(List.of("7"), "There are 17 apples.")).isZero();
    assertThat(DemoData.slotRecall(List.of(), "anything")).isZero();
    for (DemoData.Item it : DATA.eval()) {
      assertThat(DemoData.slotRecall(it.slots(), it.response())).isEqualTo(1.0);
    }
  }

  @Test
  void arithmeticAnswersAreRight() {
    Pattern add = Pattern.compile("(\\d+) \\w+ and (?:finds )?(\\d+)");
    Pattern sub = Pattern.compile("had (\\d+) \\w+ and gave (\\d+) away");
    Pattern num = Pattern.compile("(\\d+)");
    int checked = 0;
    for (DemoData.Item it : DATA.train()) {
      Matcher m = it.family().equals("addition") ? add.matcher(it.prompt())
          : it.family().equals("subtraction") ? sub.matcher(it.prompt()) : null;
      if (m == null) {
        continue;
      }
      assertThat(m.find()).as(it.prompt()).isTrue();
      int x = Integer.parseInt(m.group(1));
      int y = Integer.parseInt(m.group(2));
      Matcher r = num.matcher(it.response());
      assertThat(r.find()).isTrue();
      assertThat(Integer.parseInt(r.group(1))).as(it.prompt() + " -> " + it.response())
          .isEqualTo(it.family().equals("addition") ? x + y : x - y);
      checked++;
    }
    assertThat(checked).isGreaterThan(400);
  }

  @Test
  void writesJsonlThatTheSftReaderAccepts() {
    DATA.write(tmp);
    List<Example> train = JsonlDataset.read(tmp.resolve(DemoData.TRAIN_FILE));
    List<Example> eval = JsonlDataset.read(tmp.resolve(DemoData.EVAL_FILE));
    assertThat(train).hasSize(DemoData.TRAIN_SIZE);
    assertThat(eval).hasSize(DemoData.EVAL_SIZE);
    assertThat(eval.get(0).promptText()).isEqualTo(DATA.eval().get(0).prompt());
    assertThat(eval.get(0).response()).isEqualTo(DATA.eval().get(0).response());
  }

  @Test
  void corpusIsPlainTextWithoutHeldOutCombinations() {
    List<String> corpus = DemoCorpus.generate(1234, 3000);
    assertThat(corpus).hasSize(3000).isEqualTo(DemoCorpus.generate(1234, 3000));
    Set<String> heldPairs = new HashSet<>();
    for (List<String> k : DemoData.heldOut(1234).get("animal_sentence")) {
      heldPairs.add(" " + k.get(0) + " " + k.get(1) + " ");
    }
    for (String doc : corpus) {
      assertThat(doc).doesNotContain("###").doesNotContain("Instruction").doesNotContain("\n");
      int sentences = doc.split("[.?!] ").length;
      assertThat(sentences).isBetween(DemoCorpus.MIN_SENTENCES, DemoCorpus.MAX_SENTENCES);
      for (String pair : heldPairs) {
        assertThat(doc).doesNotContain(pair);
      }
    }
    // it talks about the same world as the dataset
    String all = String.join(" ", corpus);
    for (String w : List.of("fox", "banana", "Paris", "baker", "opposite", "larger", "apples", "desert")) {
      assertThat(all).contains(w);
    }
  }
}
