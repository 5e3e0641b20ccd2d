// The per-row token choice of every generator (TokenChooser, no model): ordering, top-k/top-p sets, log-probabilities, frequencies.
package dev.rlsr.policy.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rlsr.policy.util.RlsrException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenChooserTest {
  // probabilities at T=1: softmax of log(0.5, 0.25, 0.125, 0.125) -> exactly those
  static final float[] LOGITS = {(float) Math.log(0.125), (float) Math.log(0.5), (float) Math.log(0.125), (float) Math.log(0.25)};
  static final SamplingOptions BASE = SamplingOptions.sampling(4, 1, List.of(), 0);

  @Test
  void topOrderIsDescendingWithLowestIdOnTies() {
    assertThat(TokenChooser.topOrder(LOGITS, null, 4)).containsExactly(1, 3, 0, 2);
    assertThat(TokenChooser.topOrder(LOGITS, null, 2)).containsExactly(1, 3);
    float[] big = new float[100];
    big[70] = 3;
    big[5] = -1;
    big[42] = 3;
    assertThat(TokenChooser.topOrder(big, null, 3)).containsExactly(42, 70, 0);    // heap path (k < n/8)
    assertThat(TokenChooser.topOrder(big, null, 100)[99]).isEqualTo(5);
  }

  @Test
  void nucleusSupersetHoldsThePrefixThatReachesTopP() {
    float[] logits = new float[1000];
    logits[10] = 20;
    logits[20] = 19;                        // the rest are 0: weights ~e^-20, far below the first threshold
    double[] w = new double[1000];
    double z = 0;
    for (int v = 0; v < w.length; v++) {
      w[v] = Math.exp(logits[v] - 20);
      z += w[v];
    }
    assertThat(TokenChooser.nucleusSuperset(logits, w, 0.9 * z)).containsExactly(10, 20);
    // Asking for (almost) all the mass brings in the whole vocabulary, in order.
    int[] all = TokenChooser.nucleusSuperset(logits, w, z);
    assertThat(all).hasSize(1000);
    assertThat(all[0]).isEqualTo(10);
    assertThat(all[2]).isEqualTo(0);
  }

  @Test
  void greedyTakesArgmaxWithPointMassSamplingLogProb() {
    double[] lp = new double[2];
    int t = TokenChooser.choose(LOGITS, SamplingOptions.greedy(4, List.of(), 0), new SplittableRandom(1), lp);
    assertThat(t).isEqualTo(1);
    assertThat(lp[0]).isEqualTo(0.0);
    assertThat(lp[1]).isCloseTo(Math.log(0.5), within(1e-6));
  }

  @Test
  void topKAndTopPRenormaliseOverTheKeptSet() {
    double[] lp = new double[2];
    SplittableRandom rng = new SplittableRandom(3);
    int[] counts = new int[4];
    for (int i = 0; i < 4000; i++) {
      int t = TokenChooser.choose(LOGITS, BASE.withTopK(2), rng, lp);
      counts[t]++;
      double expected = t == 1 ? 2.0 / 3 : 1.0 / 3;                // {0.5, 0.25} renormalised
      assertThat(lp[0]).isCloseTo(Math.log(expected), within(1e-6));
      assertThat(lp[1]).isCloseTo(Math.log(t == 1 ? 0.5 : 0.25), within(1e-6));
    }
    assertThat(counts[0] + counts[2]).isZero();
    assertThat(counts[1] / 4000.0).isCloseTo(2.0 / 3, within(0.05));

    // top_p 0.7: 0.5 < 0.7 <= 0.75, so {1, 3} again
    for (int i = 0; i < 200; i++) {
      int t = TokenChooser.choose(LOGITS, BASE.withTopP(0.7), rng, lp);
      assertThat(t).isIn(1, 3);
    }
    // top_p 0.5 keeps only the first token: log-prob 0
    assertThat(TokenChooser.choose(LOGITS, BASE.withTopP(0.5), rng, lp)).isEqualTo(1);
    assertThat(lp[0]).isCloseTo(0.0, within(1e-9));
  }

  @Test
  void temperatureSharpensTheDistribution() {
    double[] lp = new double[2];
    TokenChooser.choose(LOGITS, BASE.withTemperature(0.5).withTopK(1), new SplittableRandom(1), lp);
    // p ~ 0.5^2 : 0.25^2 : 0.125^2 : 0.125^2 -> 0.25 / (0.25 + 0.0625 + 0.03125) for token 1
    assertThat(lp[1]).isCloseTo(Math.log(0.25 / 0.34375), within(1e-6));
  }

  @Test
  void badOptionsNameTheFlag() {
    assertThatThrownBy(() -> BASE.withTemperature(0)).isInstanceOf(RlsrException.class).hasMessageContaining("--temperature");
    assertThatThrownBy(() -> BASE.withTopP(0)).hasMessageContaining("--top-p");
    assertThatThrownBy(() -> BASE.withTopK(-1)).hasMessageContaining("--top-k");
    assertThatThrownBy(() -> SamplingOptions.sampling(0, 1, List.of(), 0)).hasMessageContaining("--max-new-tokens");
  }
}
