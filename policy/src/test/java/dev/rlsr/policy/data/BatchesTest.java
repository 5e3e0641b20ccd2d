// Padding, shifted targets and masks checked by hand; deterministic shuffled epochs and exact resume.
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchesTest {
  @Test
  void padShiftsTargetsAndMasksByHand() {
    TokenizedExample a = new TokenizedExample(new int[] {1, 2, 3, 4, 5}, 3); // prompt 1 2 3, response 4 5(EOS)
    TokenizedExample b = new TokenizedExample(new int[] {6, 7, 8}, 2); // prompt 6 7, response 8
    Batches.Batch x = Batches.pad(List.of(a, b), 0);
    assertThat(x.batch()).isEqualTo(2);
    assertThat(x.seq()).isEqualTo(4);
    assertThat(x.inputIds()).containsExactly(1, 2, 3, 4, /**/ 6, 7, 0, 0);
    assertThat(x.targets()).containsExactly(2, 3, 4, 5, /**/ 7, 8, 0, 0);
    assertThat(x.lossMask()).containsExactly(0, 0, 1, 1, /**/ 0, 1, 0, 0);
    assertThat(x.attentionMask()).containsExactly(1, 1, 1, 1, /**/ 1, 1, 0, 0);
    assertThat(x.lossTokens()).isEqualTo(3);
    assertThat(x.index(1, 1)).isEqualTo(5);
  }

  private static List<TokenizedExample> examples(int n) {
    List<TokenizedExample> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(new TokenizedExample(new int[] {100 + i, 1, 2}, 1)); // first id identifies the example
    }
    return l;
  }

  /** The example numbers of a batch's rows. */
  private static List<Integer> rows(Batches.Batch x) {
    List<Integer> r = new ArrayList<>();
    for (int b = 0; b < x.batch(); b++) {
      r.add(x.inputIds()[x.index(b, 0)] - 100);
    }
    return r;
  }

  @Test
  void epochsVisitEveryExampleOnceInASeededOrder() {
    Batches.EpochIterator it = new Batches.EpochIterator(examples(10), 4, 42, 0, false);
    assertThat(it.batchesPerEpoch()).isEqualTo(3);
    List<Integer> epoch0 = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Batches.Batch x = it.next();
      sizes.add(x.batch());
      epoch0.addAll(rows(x));
    }
    assertThat(sizes).containsExactly(4, 4, 2);
    assertThat(epoch0).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(epoch0).isNotEqualTo(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
    assertThat(it.state()).isEqualTo(new Batches.State(0, 10));
    List<Integer> epoch1 = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      epoch1.addAll(rows(it.next()));
    }
    assertThat(epoch1).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9).isNotEqualTo(epoch0);
    // same seed, same order; another seed, another order
    Set<List<Integer>> firstBatches = new HashSet<>();
    for (long seed : new long[] {42, 42, 43}) {
      firstBatches.add(rows(new Batches.EpochIterator(examples(10), 10, seed, 0, false).next()));
    }
    assertThat(firstBatches).hasSize(2);
  }

  @Test
  void resumingFromStateRepeatsTheUninterruptedSequence() {
    Batches.EpochIterator run = new Batches.EpochIterator(examples(7), 3, 5, 0, false);
    for (int i = 0; i < 4; i++) {
      run.next();
    }
    Batches.State saved = run.state();
    List<List<Integer>> expected = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      expected.add(rows(run.next()));
    }
    Batches.EpochIterator resumed = new Batches.EpochIterator(examples(7), 3, 5, 0, false, saved);
    List<List<Integer>> got = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      got.add(rows(resumed.next()));
    }
    assertThat(got).isEqualTo(expected);
  }

  @Test
  void dropLastSkipsThePartialBatch() {
    Batches.EpochIterator it = new Batches.EpochIterator(examples(10), 4, 1, 0, true);
    assertThat(it.batchesPerEpoch()).isEqualTo(2);
    assertThat(it.next().batch()).isEqualTo(4);
    assertThat(it.next().batch()).isEqualTo(4);
    assertThat(it.state()).isEqualTo(new Batches.State(0, 8));
    assertThat(it.next().batch()).isEqualTo(4);
    assertThat(it.state()).isEqualTo(new Batches.State(1, 4));
  }
}
