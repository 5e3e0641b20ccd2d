// Training mechanics of the TensorFlow graph: one step moves every tensor, micro-batch accumulation equals the
// full batch, causality, NaN steps are skipped, and weights/optimizer state round-trip.
package dev.rlsr.policy.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyGraphTest {
  static ModelConfig tiny(String type, boolean tied) {
    return ModelConfig.builder(type).vocabSize(64).hiddenSize(32).intermediateSize(48).layers(2).heads(4).kvHeads(2)
        .tied(tied).ropeTheta(10000.0).maxPositions(128).bosId(1).eosId(2).build();
  }

  static final int[][] IDS = {{5, 9, 12, 40, 3, 7}, {8, 8, 21, 30, 0, 0}, {11, 13, 17, 19, 23, 29}, {4, 6, 0, 0, 0, 0}};
  static final int[][] MASK = {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1}, {1, 1, 0, 0, 0, 0}};

  static int[][] targets(int[][] ids) {
    int[][] t = new int[ids.length][ids[0].length];
    for (int b = 0; b < ids.length; b++) {
      for (int i = 0; i + 1 < ids[b].length; i++) {
        t[b][i] = ids[b][i + 1];
      }
    }
    return t;
  }

  static int[][] positions(int b, int t) {
    int[][] p = new int[b][t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        p[i][j] = j;
      }
    }
    return p;
  }

  static float[][] lossMask(int[][] mask) {
    float[][] m = new float[mask.length][mask[0].length];
    for (int b = 0; b < mask.length; b++) {
      for (int i = 0; i + 1 < mask[b].length; i++) {
        m[b][i] = mask[b][i + 1] == 1 && i >= 1 ? 1f : 0f; // targets after the first token, not padding
      }
    }
    return m;
  }

  static int[][] rows(int[][] a, int from, int to) {
    return java.util.Arrays.copyOfRange(a, from, to);
  }

  static float[][] rows(float[][] a, int from, int to) {
    return java.util.Arrays.copyOfRange(a, from, to);
  }

  static float total(float[][] m) {
    float s = 0;
    for (float[] r : m) {
      for (float v : r) {
        s += v;
      }
    }
    return s;
  }

  private static void accumulate(PolicyGraph g, int from, int to, float scale) {
    float[][] lm = lossMask(MASK);
    TokenBatch tokens = new TokenBatch(rows(IDS, from, to), rows(targets(IDS), from, to), rows(MASK, from, to),
        positions(to - from, IDS[0].length));
    g.training().accumulate(new SftLoss(), new SftLoss.Inputs(tokens, rows(lm, from, to), scale));
  }

  @Test
  void oneStepChangesEveryTensorAndLowersLoss() {
    ModelWeights w0 = ModelWeights.random(tiny("qwen2", false), 1);
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      float scale = 1f / total(lossMask(MASK));
      accumulate(g, 0, 4, scale);
      var step = g.training().applyGradients(1e-2, 0.01, 1.0);
      assertThat(step.applied()).isTrue();
      assertThat(step.gradNorm()).isPositive().isFinite();
      ModelWeights w1 = g.getWeights();
      for (String name : w0.tensors().keySet()) {
        assertThat(maxAbsDiff(w0.get(name), w1.get(name))).as(name).isGreaterThan(0f);
      }
      float before = Float.NaN;
      float after = Float.NaN;
      for (int i = 0; i < 10; i++) {
        float[][] lm = lossMask(MASK);
        float loss = g.training().accumulate(new SftLoss(), new SftLoss.Inputs(
            new TokenBatch(IDS, targets(IDS), MASK, positions(4, 6)), lm, scale)).get("loss");
        if (i == 0) {
          before = loss;
        }
        after = loss;
        g.training().applyGradients(1e-2, 0.0, 1.0);
      }
      assertThat(after).isLessThan(before * 0.8f);
    }
  }

  @Test
  void fourMicroBatchesOfOneEqualOneBatchOfFour() {
    ModelWeights w0 = ModelWeights.random(tiny("llama", true), 2);
    float scale = 1f / total(lossMask(MASK));
    ModelWeights full;
    ModelWeights micro;
    Map<String, FloatTensor> gradFull;
    Map<String, FloatTensor> gradMicro;
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      accumulate(g, 0, 4, scale);
      gradFull = g.training().accumulatedGradients();
      g.training().applyGradients(1e-4, 0.1, 0.5); // a fine-tuning learning rate
      full = g.getWeights();
    }
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      for (int i = 0; i < 4; i++) {
        accumulate(g, i, i + 1, scale);
      }
      gradMicro = g.training().accumulatedGradients();
      g.training().applyGradients(1e-4, 0.1, 0.5); // a fine-tuning learning rate
      micro = g.getWeights();
    }
    for (String name : w0.tensors().keySet()) {
      FloatTensor a = full.get(name);
      FloatTensor b = micro.get(name);
      // the accumulated gradient: || g_full - g_micro || / || g_full || <= 1e-5
      assertThat(relativeL2(gradFull.get(name), gradMicro.get(name))).as("gradient " + name).isLessThanOrEqualTo(1e-5);
      // the weights after the AdamW step, relative to the tensor's scale
      float scaleW = maxAbs(a);
      assertThat(maxAbsDiff(a, b)).as("weights " + name).isLessThanOrEqualTo(1e-5f * scaleW);
    }
  }

  @Test
  void futureTokensDoNotChangePastLogprobs() {
    ModelWeights w = ModelWeights.random(tiny("llama", false), 3);
    try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
      int[][] a = {{5, 9, 12, 40, 3, 7}};
      int[][] b = {{5, 9, 12, 41, 44, 45}};
      int[][] m = {{1, 1, 1, 1, 1, 1}};
      var la = g.forward(a, targets(a), m, positions(1, 6), true).logprobs();
      var lb = g.forward(b, targets(a), m, positions(1, 6), true).logprobs();
      for (int t = 0; t < 3; t++) {
        assertThat(la[0][t]).isCloseTo(lb[0][t], org.assertj.core.data.Offset.offset(1e-6f));
      }
      assertThat(la[0][3]).isNotCloseTo(lb[0][3], org.assertj.core.data.Offset.offset(1e-6f));
    }
  }

  @Test
  void nonFiniteGradientSkipsTheStep() {
    ModelWeights w0 = ModelWeights.random(tiny("llama", false), 4);
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      accumulate(g, 0, 4, Float.NaN);
      var r = g.training().applyGradients(1e-2, 0.0, 1.0);
      assertThat(r.applied()).isFalse();
      assertThat(g.training().step()).isZero();
      ModelWeights w1 = g.getWeights();
      for (String name : w0.tensors().keySet()) {
        assertThat(maxAbsDiff(w0.get(name), w1.get(name))).as(name).isZero();
      }
      accumulate(g, 0, 4, 0.01f); // the accumulators were cleared: the next step is clean
      assertThat(g.training().applyGradients(1e-2, 0.0, 1.0).applied()).isTrue();
    }
  }

  static double relativeL2(FloatTensor a, FloatTensor b) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.data().length; i++) {
      diff += Math.pow(a.data()[i] - b.data()[i], 2);
      norm += Math.pow(a.data()[i], 2);
    }
    return Math.sqrt(diff / norm);
  }

  static float maxAbs(FloatTensor a) {
    float m = 0;
    for (float v : a.data()) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static float maxAbsDiff(FloatTensor a, FloatTensor b) {
    float m = 0;
    for (int i = 0; i < a.data().length; i++) {
      m = Math.max(m, Math.abs(a.data()[i] - b.data()[i]));
    }
    return m;
  }
}
