// The property the demo's reward relies on: under all-MiniLM-L6-v2 (the default judge encoder), a response is
// the closer to the reference the more of the prompt's slot values it carries.
package dev.rlsr.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DemoDataEmbeddingTest {
  /** The response with every whole-word occurrence of slot value {@code from} replaced by {@code to}. */
  private static String replace(String text, String from, String to) {
    return Pattern.compile("(?<![A-Za-z0-9])" + Pattern.quote(from) + "(?![A-Za-z0-9])").matcher(text)
        .replaceAll(Matcher.quoteReplacement(to));
  }

  private static double cos(float[] a, float[] b) {
    double d = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      d += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return d / Math.sqrt(na * nb);
  }

  @Test
  void replacingMoreSlotValuesMovesTheResponseFurtherFromTheReference() {
    DemoData data = DemoData.generate(DemoData.DEFAULT_SEED);
    List<DemoData.Item> pool = data.train();
    // chains: reference, then the reference with its first 1, 2, ... slot values swapped for another example's
    List<List<String>> chains = new ArrayList<>();
    for (DemoData.Item it : data.eval()) {
      DemoData.Item other = pool.stream()
          .filter(o -> o.family().equals(it.family()) && o.slots().size() == it.slots().size()
              && o.slots().stream().noneMatch(s -> it.slots().contains(s) || it.response().contains(s)))
          .findFirst().orElse(null);
      if (other == null) {
        continue;
      }
      List<String> chain = new ArrayList<>();
      String text = it.response();
      chain.add(text);
      for (int k = 0; k < it.slots().size(); k++) {
        text = replace(text, it.slots().get(k), other.slots().get(k));
        chain.add(text);
      }
      chains.add(chain);
    }
    assertThat(chains).hasSizeGreaterThan(100);
    List<TextSegment> all = new ArrayList<>();
    chains.forEach(c -> c.forEach(t -> all.add(TextSegment.from(t))));
    var model = new AllMiniLmL6V2EmbeddingModel();
    var vectors = model.embedAll(all).content();
    int at = 0;
    int steps = 0;
    int decreasing = 0;
    double firstSwap = 0;
    double allSwapped = 0;
    for (List<String> c : chains) {
      float[] ref = vectors.get(at).vector();
      double prev = 1.0;
      for (int k = 1; k < c.size(); k++) {
        double s = cos(ref, vectors.get(at + k).vector());
        steps++;
        if (s < prev) {
          decreasing++;
        }
        prev = s;
        if (k == 1) {
          firstSwap += s;
        }
      }
      allSwapped += prev;
      at += c.size();
    }
    firstSwap /= chains.size();
    allSwapped /= chains.size();
    System.out.printf("demo data under all-MiniLM-L6-v2: %d chains, %.3f of swaps lower the cosine, mean cosine"
        + " %.3f with one slot swapped, %.3f with all swapped%n", chains.size(), (double) decreasing / steps, firstSwap,
        allSwapped);
    // every swap of a slot value lowers the similarity in the large majority of cases, and on average clearly
    assertThat((double) decreasing / steps).as("share of swaps that lower the cosine").isGreaterThan(0.9);
    assertThat(firstSwap).as("mean cosine with one slot swapped").isLessThan(0.97);
    assertThat(allSwapped).as("mean cosine with all slots swapped").isLessThan(firstSwap - 0.1);
  }
}
