// The GRPO objective on hand-computed inputs: advantages for every scale mode, clipping on both sides (and
// asymmetric epsilon), the k3 KL, importance-sampling weights, masking, and every loss type's aggregation.
package dev.rlsr.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.rlsr.policy.graph.Feeds;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

class GrpoObjectiveTest {
  /** Runs GrpoLoss.terms on one row of tokens; returns [perTokenLoss, kl, clipLow, clipHigh] rows. */
  static float[][] terms(float[] logp, float[] old, float[] ref, float adv, float[] mask, float[] isw, float beta,
      float epsLow, float epsHigh) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Placeholder<TFloat32>> ph = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        ph.add(tf.placeholder(TFloat32.class));
      }
      float[] advRow = new float[logp.length];
      java.util.Arrays.fill(advRow, adv);
      GrpoLoss.Terms t = GrpoLoss.terms(tf, ph.get(0), ph.get(1), ph.get(2), ph.get(3), ph.get(4), ph.get(5),
          tf.constant(beta), tf.constant(epsLow), tf.constant(epsHigh));
      float[][] in = {logp, old, ref, advRow, mask, isw};
      List<Tensor> open = new ArrayList<>();
      var runner = s.runner();
      for (int i = 0; i < 6; i++) {
        Tensor x = Feeds.floats(new float[][] {in[i]});
        open.add(x);
        runner.feed(ph.get(i), x);
      }
      for (Operand<TFloat32> o : List.of(t.perTokenLoss(), t.kl(), t.clippedLow(), t.clippedHigh())) {
        runner.fetch(o);
      }
      try (Result r = runner.run()) {
        float[][] out = new float[4][logp.length];
        for (int i = 0; i < 4; i++) {
          r.get(i).asRawTensor().data().asFloats().read(out[i]);
        }
        return out;
      } finally {
        open.forEach(Tensor::close);
      }
    }
  }

  static float[] ones(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, 1f);
    return a;
  }

  static final float LN15 = (float) Math.log(1.5);
  static final float LN05 = (float) Math.log(0.5);

  @Test
  void advantagesPerScaleMode() {
    float[] r = {1f, 0f, 0.5f, 0.5f, 0.2f, 0.2f, 0.2f, 0.2f};
    double std = Math.sqrt((0.25 + 0.25) / 3); // unbiased std of group 1
    float[] g = Advantages.compute(r, 4, ScaleRewards.GROUP);
    assertThat(g[0]).isCloseTo((float) (0.5 / (std + 1e-4)), offset(1e-5f));
    assertThat(g[1]).isCloseTo((float) (-0.5 / (std + 1e-4)), offset(1e-5f));
    assertThat(g[2]).isZero();
    assertThat(g[4]).isZero(); // a constant group carries no signal, and no NaN
    float[] n = Advantages.compute(r, 4, ScaleRewards.NONE);
    assertThat(n[0]).isCloseTo(0.5f, offset(1e-6f));
    double mean = (1 + 0 + 0.5 + 0.5 + 0.8) / 8;
    double ss = 0;
    for (float x : r) {
      ss += (x - mean) * (x - mean);
    }
    double batchStd = Math.sqrt(ss / 7);
    float[] b = Advantages.compute(r, 4, ScaleRewards.BATCH);
    assertThat(b[1]).isCloseTo((float) (-0.5 / (batchStd + 1e-4)), offset(1e-5f));
    assertThat(Advantages.fractionZeroStd(r, 4)).isEqualTo(0.5);
  }

  @Test
  void clippingOnBothSides() {
    // tokens: ratio 1.5, 1.5, 0.5, 0.5 with advantages +1, -1 handled by two calls
    float[] logp = {LN15, LN05};
    float[] zero = {0f, 0f};
    float[][] pos = terms(logp, zero, logp, 1f, ones(2), ones(2), 0f, 0.2f, 0.2f);
    assertThat(pos[0][0]).isCloseTo(-1.2f, offset(1e-6f)); // min(1.5, 1.2) * 1, clipped high
    assertThat(pos[0][1]).isCloseTo(-0.5f, offset(1e-6f)); // min(0.5, 0.8): unclipped
    assertThat(pos[3]).containsExactly(1f, 0f);
    assertThat(pos[2]).containsExactly(0f, 0f);
    float[][] neg = terms(logp, zero, logp, -1f, ones(2), ones(2), 0f, 0.2f, 0.2f);
    assertThat(neg[0][0]).isCloseTo(1.5f, offset(1e-6f)); // min(-1.5, -1.2) = -1.5: not clipped
    assertThat(neg[0][1]).isCloseTo(0.8f, offset(1e-6f)); // min(-0.5, -0.8) = -0.8: clipped low
    assertThat(neg[2]).containsExactly(0f, 1f);
    assertThat(neg[3]).containsExactly(0f, 0f);
    // asymmetric epsilon (DAPO's clip-higher): 1 + 0.28
    float[][] dapo = terms(logp, zero, logp, 1f, ones(2), ones(2), 0f, 0.2f, 0.28f);
    assertThat(dapo[0][0]).isCloseTo(-1.28f, offset(1e-6f));
  }

  @Test
  void k3KlIsAddedWithBetaAndIsWeightScalesThePolicyTermOnly() {
    float[] logp = {-1f, -2f};
    float[] ref = {-0.5f, -2f}; // gaps 0.5 and 0
    float[][] t = terms(logp, logp, ref, 2f, ones(2), new float[] {0.5f, 1f}, 0.1f, 0.2f, 0.2f);
    double k3 = Math.exp(0.5) - 0.5 - 1; // 0.148721
    assertThat(t[1][0]).isCloseTo((float) k3, offset(1e-6f));
    assertThat(t[1][1]).isCloseTo(0f, offset(1e-7f));
    // ratio 1: policy term -A * w_IS, plus beta * kl
    assertThat(t[0][0]).isCloseTo((float) (-2 * 0.5 + 0.1 * k3), offset(1e-6f));
    assertThat(t[0][1]).isCloseTo(-2f, offset(1e-6f));
  }

  @Test
  void maskedTokensContributeNothingAndStayFinite() {
    float[] logp = {-1f, -1000f};
    float[] old = {-1f, 0f};
    float[] ref = {-1f, 0f};
    float[][] t = terms(logp, old, ref, 1f, new float[] {1f, 0f}, ones(2), 0.5f, 0.2f, 0.2f);
    assertThat(t[0][1]).isZero();
    assertThat(t[1][1]).isZero();
    assertThat(t[0][0]).isCloseTo(-1f, offset(1e-6f));
  }

  @Test
  void aggregationWeightsPerLossType() {
    int[] rowTokens = {2, 4};
    assertThat(LossType.GRPO.rowWeights(rowTokens, 2, 6, 1, 8)).containsExactly(1.0 / 4, 1.0 / 8);
    assertThat(LossType.BNPO.rowWeights(rowTokens, 2, 6, 1, 8)).containsExactly(1.0 / 6, 1.0 / 6);
    assertThat(LossType.DR_GRPO.rowWeights(rowTokens, 2, 6, 1, 8)).containsExactly(1.0 / 16, 1.0 / 16);
    assertThat(LossType.DAPO.rowWeights(rowTokens, 2, 6, 1, 8)).containsExactly(1.0 / 6, 1.0 / 6);
    // two micro-batches of one row each: GRPO and DAPO equal their one-batch values, BNPO averages per micro-batch
    assertThat(LossType.GRPO.rowWeights(new int[] {2}, 2, 6, 2, 8)).containsExactly(1.0 / 4);
    assertThat(LossType.GRPO.rowWeights(new int[] {4}, 2, 6, 2, 8)).containsExactly(1.0 / 8);
    assertThat(LossType.DAPO.rowWeights(new int[] {4}, 2, 6, 2, 8)).containsExactly(1.0 / 6);
    assertThat(LossType.BNPO.rowWeights(new int[] {4}, 2, 6, 2, 8)).containsExactly(1.0 / 8);
    assertThat(LossType.DR_GRPO.rowWeights(new int[] {4}, 2, 6, 2, 8)).containsExactly(1.0 / 16);
  }

  @Test
  void lossValuePerLossTypeOnTwoRows() {
    // row 0: 2 tokens of per-token loss -1 (ratio 1, A = +1); row 1: 4 tokens of +0.5 (A = -0.5)
    float[] l0 = terms(new float[] {-1, -1}, new float[] {-1, -1}, new float[] {-1, -1}, 1f, ones(2), ones(2), 0f, 0.2f, 0.2f)[0];
    float[] l1 = terms(new float[] {-1, -1, -1, -1}, new float[] {-1, -1, -1, -1}, new float[] {-1, -1, -1, -1}, -0.5f,
        ones(4), ones(4), 0f, 0.2f, 0.2f)[0];
    double s0 = l0[0] + l0[1];
    double s1 = l1[0] + l1[1] + l1[2] + l1[3];
    assertThat(s0).isCloseTo(-2.0, offset(1e-6));
    assertThat(s1).isCloseTo(2.0, offset(1e-6));
    double[] w;
    w = LossType.GRPO.rowWeights(new int[] {2, 4}, 2, 6, 1, 8);
    assertThat(w[0] * s0 + w[1] * s1).isCloseTo((-1.0 + 0.5) / 2, offset(1e-6)); // mean of row means
    w = LossType.DAPO.rowWeights(new int[] {2, 4}, 2, 6, 1, 8);
    assertThat(w[0] * s0 + w[1] * s1).isCloseTo(0.0, offset(1e-6)); // (-2 + 2) / 6
    w = LossType.DR_GRPO.rowWeights(new int[] {2, 4}, 2, 6, 1, 8);
    assertThat(w[0] * s0 + w[1] * s1).isCloseTo(0.0, offset(1e-6));
  }
}
