// GrpoLoss on the chunked log-prob head against the unchunked reference head with plain autodiff: the loss, its
// metrics (entropy included) and every accumulated gradient, tied and untied, at a sampling temperature of 0.8.
package dev.rlsr.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.graph.TokenBatch;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GrpoHeadParityTest {
  static final int[][] IDS = {{5, 9, 12, 40, 3, 7, 8}, {8, 8, 21, 30, 0, 0, 0}, {11, 13, 17, 19, 23, 29, 31}};
  static final int[][] MASK = {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1}};

  static ModelConfig config(String type, boolean tied) {
    return ModelConfig.builder(type).vocabSize(83).hiddenSize(32).intermediateSize(48).layers(2).heads(4).kvHeads(2)
        .tied(tied).ropeTheta(10000.0).maxPositions(64).bosId(1).eosId(2).build();
  }

  static TokenBatch batch() {
    int b = IDS.length;
    int t = IDS[0].length;
    int[][] targets = new int[b][t];
    int[][] pos = new int[b][t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        targets[i][j] = j + 1 < t ? IDS[i][j + 1] : 0; // padding and the last column: a valid id, masked out
        pos[i][j] = j;
      }
    }
    return new TokenBatch(IDS, targets, MASK, pos);
  }

  static GrpoLoss.Inputs inputs(float[][] logp) {
    SplittableRandom rng = new SplittableRandom(5);
    int b = logp.length;
    int t = logp[0].length;
    float[][] old = new float[b][t];
    float[][] ref = new float[b][t];
    float[][] adv = new float[b][t];
    float[][] mask = new float[b][t];
    float[][] weights = new float[b][t];
    float[][] is = new float[b][t];
    for (int i = 0; i < b; i++) {
      float a = i == 1 ? -0.7f : 1.1f - i * 0.3f;
      for (int j = 0; j < t; j++) {
        mask[i][j] = j >= 2 && j + 1 < t && MASK[i][j + 1] == 1 ? 1f : 0f; // completion tokens, not padding
        old[i][j] = logp[i][j] + (float) rng.nextDouble(-0.4, 0.4);
        ref[i][j] = logp[i][j] + (float) rng.nextDouble(-0.3, 0.3);
        adv[i][j] = a;
        weights[i][j] = mask[i][j] / 9f;
        is[i][j] = (float) rng.nextDouble(0.5, 1.0);
      }
    }
    return new GrpoLoss.Inputs(batch(), old, ref, adv, mask, weights, is, new GrpoLoss.Coefficients(0.04f, 0.2f, 0.28f));
  }

  @Test
  void grpoOnTheChunkedHeadMatchesTheReferenceHead() {
    double worst = 0;
    for (boolean tied : new boolean[] {true, false}) {
      ModelWeights w = ModelWeights.random(config(tied ? "llama" : "qwen2", tied), tied ? 31 : 32);
      Map<String, Float> refOut;
      Map<String, FloatTensor> ref;
      GrpoLoss.Inputs in;
      try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.training(1).withHead(PolicyGraph.Head.REFERENCE),
          List.of(new GrpoLoss()))) {
        g.setTemperature(0.8f);
        in = inputs(g.forward(batch(), false).logprobs());
        refOut = g.training().accumulate(new GrpoLoss(), in);
        ref = g.training().accumulatedGradients();
      }
      // 21 tokens: 4 rows per chunk leaves a last chunk of 1
      try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.training(1).withHead(PolicyGraph.Head.chunked(4)),
          List.of(new GrpoLoss()))) {
        g.setTemperature(0.8f);
        Map<String, Float> out = g.training().accumulate(new GrpoLoss(), in);
        assertThat(out.keySet()).containsExactlyElementsOf(refOut.keySet());
        for (String k : refOut.keySet()) {
          assertThat(out.get(k)).as(k).isCloseTo(refOut.get(k), offset(1e-5f));
        }
        assertThat(refOut.get("entropy_sum")).isPositive();
        Map<String, FloatTensor> got = g.training().accumulatedGradients();
        assertThat(got.keySet()).containsExactlyElementsOf(ref.keySet());
        for (String name : ref.keySet()) {
          double e = relativeL2(ref.get(name), got.get(name));
          assertThat(e).as(name + ", tied " + tied).isLessThanOrEqualTo(1e-5);
          worst = Math.max(worst, e);
        }
      }
    }
    System.out.printf("GrpoLoss chunked head: max relative L2 gradient error = %.3g%n", worst);
  }

  static double relativeL2(FloatTensor a, FloatTensor b) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.data().length; i++) {
      diff += Math.pow(a.data()[i] - b.data()[i], 2);
      norm += Math.pow(a.data()[i], 2);
    }
    assertThat(norm).isPositive();
    return Math.sqrt(diff / norm);
  }
}
