// Sanity checks of the reference forward pass itself, from properties that hold for any correct implementation.
package dev.rlsr.policy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NaiveLlamaTest {
  private static final ModelConfig QWEN = ModelConfig.builder("qwen2").vocabSize(40).hiddenSize(16).intermediateSize(24)
      .layers(2).heads(4).kvHeads(2).headDim(6).tied(false).ropeTheta(10000).maxPositions(64).bosId(1).eosId(2).build();

  @Test
  void zeroedLayersLeaveNormalizedEmbeddingTimesLmHead() {
    // With every projection zero the residual stream is the embedding: logits = lm_head . rms(embed[id]).
    ModelWeights w = ModelWeights.random(QWEN, 3);
    w.tensors().forEach((name, t) -> {
      if (name.startsWith("model.layers.") && !name.endsWith("norm.weight")) {
        Arrays.fill(t.data(), 0f);
      }
    });
    int[][] ids = {{5, 7, 5}};
    float[][][] logits = NaiveLlama.logits(w, ids, new int[][] {{1, 1, 1}}, new int[][] {{0, 1, 2}});
    FloatTensor emb = w.get("model.embed_tokens.weight");
    FloatTensor head = w.lmHead();
    int d = QWEN.hiddenSize();
    for (int t = 0; t < 3; t++) {
      double ss = 0;
      for (int k = 0; k < d; k++) {
        ss += Math.pow(emb.data()[ids[0][t] * d + k], 2);
      }
      double inv = 1 / Math.sqrt(ss / d + QWEN.rmsNormEps());
      for (int v = 0; v < QWEN.vocabSize(); v++) {
        double s = 0;
        for (int k = 0; k < d; k++) {
          s += emb.data()[ids[0][t] * d + k] * inv * head.data()[v * d + k];
        }
        assertThat((double) logits[0][t][v]).isCloseTo(s, within(1e-5));
      }
    }
    // The same token at two positions gives the same logits once attention is gone.
    assertThat(logits[0][0]).containsExactly(logits[0][2]);
  }

  @Test
  void futureTokensDoNotChangePastLogits() {
    ModelWeights w = ModelWeights.random(QWEN, 4);
    int[][] mask = {{1, 1, 1, 1}};
    int[][] pos = {{0, 1, 2, 3}};
    float[][][] a = NaiveLlama.logits(w, new int[][] {{3, 9, 11, 4}}, mask, pos);
    float[][][] b = NaiveLlama.logits(w, new int[][] {{3, 9, 30, 17}}, mask, pos);
    assertThat(a[0][0]).containsExactly(b[0][0]);
    assertThat(a[0][1]).containsExactly(b[0][1]);
    assertThat(a[0][2]).isNotEqualTo(b[0][2]);
  }

  @Test
  void leftPaddingWithMaskPositionsMatchesTheUnpaddedSequence() {
    ModelWeights w = ModelWeights.random(QWEN, 5);
    float[][][] plain = NaiveLlama.logits(w, new int[][] {{3, 9, 11}}, new int[][] {{1, 1, 1}}, new int[][] {{0, 1, 2}});
    int[][] mask = {{0, 0, 1, 1, 1}};
    float[][][] padded = NaiveLlama.logits(w, new int[][] {{0, 0, 3, 9, 11}}, mask, NaiveLlama.positionsFromMask(mask));
    for (int t = 0; t < 3; t++) {
      for (int v = 0; v < QWEN.vocabSize(); v++) {
        assertThat(padded[0][t + 2][v]).isCloseTo(plain[0][t][v], within(1e-6f));
      }
    }
    assertThat(NaiveLlama.positionsFromMask(mask)[0]).containsExactly(0, 0, 0, 1, 2);
  }

  /**
   * The Qwen3 q/k norm of the reference, checked by a property of it: an RMSNorm of each query and key head makes
   * the logits invariant to scaling q_proj and k_proj (up to eps), which plain Llama attention is not; and the
   * q_norm weights enter (changing one changes the logits).
   */
  @Test
  void qkNormMakesLogitsInvariantToTheScaleOfQueriesAndKeys() {
    int[][] ids = {{3, 9, 27, 4, 50, 12, 7, 33}};
    int[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}};
    int[][] pos = {{0, 1, 2, 3, 4, 5, 6, 7}};
    for (ModelConfig c : new ModelConfig[] {FamilyConfigs.qwen3(), FamilyConfigs.mistral()}) {
      ModelWeights w = FamilyConfigs.weights(c, 5);
      float[][][] before = NaiveLlama.logits(w, ids, mask, pos);
      ModelWeights scaled = w.copy();
      for (var e : scaled.tensors().entrySet()) {
        if (e.getKey().endsWith("q_proj.weight") || e.getKey().endsWith("k_proj.weight")) {
          float[] d = e.getValue().data();
          for (int i = 0; i < d.length; i++) {
            d[i] *= 3;
          }
        }
      }
      double diff = Logits.maxAbsDiff(before, NaiveLlama.logits(scaled, ids, mask, pos), mask);
      if (c.architecture().qkNorm()) {
        assertThat(diff).as("qwen3: scale-invariant").isLessThan(1e-4);
        ModelWeights other = w.copy();
        other.get("model.layers.0.self_attn.q_norm.weight").data()[0] += 1;
        assertThat(Logits.maxAbsDiff(before, NaiveLlama.logits(other, ids, mask, pos), mask))
            .as("q_norm weights enter").isGreaterThan(1e-3);
      } else {
        assertThat(diff).as("without q/k norm the scale matters").isGreaterThan(1e-2);
      }
    }
  }
}
