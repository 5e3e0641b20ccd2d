// The KV-cache rollout sampler on a real policy session.
package dev.rlsr.export.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.testing.NaiveLlama;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OrtSamplerTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final ModelConfig CONFIG = ModelConfig.builder("qwen2").vocabSize(64).hiddenSize(32).intermediateSize(48)
      .layers(2).heads(4).kvHeads(2).tied(false).ropeTheta(10000).maxPositions(128).bosId(1).eosId(2).build();
  static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 3, 40, 9}, new int[] {8}, new int[] {33, 12, 7});
  static final int PAD = 0;
  static ModelWeights weights;
  static OnnxPolicySession session;
  static OrtSampler sampler;

  @BeforeAll
  static void open() {
    // Larger weights than the default init give peaked, input-dependent distributions (clear argmaxes).
    weights = ModelWeights.random(CONFIG, 41);
    weights.tensors().forEach((n, t) -> {
      if (!n.endsWith("norm.weight")) {
        for (int i = 0; i < t.data().length; i++) {
          t.data()[i] *= 10;
        }
      }
    });
    session = OnnxPolicySessions.create(ENV, OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of()), weights, 1, "cpu");
    sampler = new OrtSampler(ENV, session.session(), CONFIG);
  }

  @AfterAll
  static void close() {
    session.close();
  }

  @Test
  void perRowOptionsGiveEachRowItsOwnDrawsLengthAndStop() {
    SamplingOptions a = SamplingOptions.sampling(10, 7, List.of(), PAD);
    SamplingOptions b = SamplingOptions.sampling(4, 8, List.of(), PAD).withTemperature(0.7);
    SamplingOptions c = SamplingOptions.greedy(12, List.of(), PAD);
    // Alone, each row is what a one-row call with its options gives.
    List<Rollout> alone = List.of(sampler.sample(List.of(PROMPTS.get(0)), a).get(0),
        sampler.sample(List.of(PROMPTS.get(1)), b).get(0), sampler.sample(List.of(PROMPTS.get(2)), c).get(0));
    java.util.List<String> seen = new java.util.ArrayList<>();
    List<Rollout> together = sampler.sample(PROMPTS, List.of(a, b, c), (row, token) -> {
      seen.add(row + ":" + token);
      return !(row == 2 && seen.stream().filter(x -> x.startsWith("2:")).count() == 5); // row 2 stops after 5
    });
    assertThat(together.get(0).tokens()).containsExactly(alone.get(0).tokens());
    assertThat(together.get(1).tokens()).hasSize(4).containsExactly(alone.get(1).tokens());
    assertThat(together.get(2).tokens()).containsExactly(Arrays.copyOf(alone.get(2).tokens(), 5));
    assertThat(together.get(2).finishedByEos()).isFalse();
    assertThat(seen).hasSize(10 + 4 + 5);
    // Swapping neighbours changes nothing for a row with its own seed.
    List<Rollout> swapped = sampler.sample(List.of(PROMPTS.get(1), PROMPTS.get(0)), List.of(b, a),
        dev.rlsr.policy.rollout.DecodeState.NONE);
    assertThat(swapped.get(1).tokens()).containsExactly(alone.get(0).tokens());
    assertThat(swapped.get(0).tokens()).containsExactly(alone.get(1).tokens());
  }

  @Test
  void greedyEqualsArgmaxOfFullRecompute() {
    List<Rollout> out = sampler.sample(PROMPTS, SamplingOptions.greedy(16, List.of(), PAD));
    for (int b = 0; b < PROMPTS.size(); b++) {
      int[] p = PROMPTS.get(b);
      Rollout r = out.get(b);
      assertThat(r.tokens()).hasSize(16);
      assertThat(r.finishedByEos()).isFalse();
      float[][] full = fullRecompute(p, r.tokens());
      for (int t = 0; t < 16; t++) {
        float[] row = full[p.length - 1 + t];
        int best = argmax(row);
        // The chosen token is the argmax of the reference (up to float noise between near-equal logits).
        assertThat(row[r.tokens()[t]]).as("row %d step %d", b, t).isGreaterThanOrEqualTo(row[best] - 1e-4f);
        assertThat((double) r.policyLogProbs()[t]).isCloseTo(logSoftmax(row, r.tokens()[t]), within(1e-4));
        assertThat(r.samplingLogProbs()[t]).isZero();
      }
    }
  }

  @Test
  void lastPositionLogitsGraphSamplesTheSame() {
    SamplingOptions o = SamplingOptions.sampling(12, 9, List.of(), PAD).withTopK(20);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of(), OnnxPolicyExporter.Logits.LAST);
    try (OnnxPolicySession last = OnnxPolicySessions.create(ENV, proto, weights, 1, "cpu")) {
      List<Rollout> a = new OrtSampler(ENV, last.session(), CONFIG).sample(PROMPTS, o);
      List<Rollout> b = sampler.sample(PROMPTS, o);
      for (int i = 0; i < PROMPTS.size(); i++) {
        assertThat(a.get(i).tokens()).containsExactly(b.get(i).tokens());
        for (int t = 0; t < a.get(i).tokens().length; t++) {
          assertThat(a.get(i).policyLogProbs()[t]).isCloseTo(b.get(i).policyLogProbs()[t], within(1e-4f));
        }
      }
    }
  }

  @Test
  void seededSamplingRepeatsAndTopK1IsGreedy() {
    SamplingOptions o = SamplingOptions.sampling(12, 7, List.of(), PAD).withTemperature(0.9).withTopP(0.95);
    List<Rollout> a = sampler.sample(PROMPTS, o);
    List<Rollout> b = sampler.sample(PROMPTS, o);
    List<Rollout> other = sampler.sample(PROMPTS, o.withSeed(8));
    for (int i = 0; i < PROMPTS.size(); i++) {
      assertThat(a.get(i).tokens()).containsExactly(b.get(i).tokens());
      assertThat(a.get(i).samplingLogProbs()).containsExactly(b.get(i).samplingLogProbs());
    }
    assertThat(a.stream().map(r -> Arrays.toString(r.tokens())).toList())
        .isNotEqualTo(other.stream().map(r -> Arrays.toString(r.tokens())).toList());
    // Sampling log-probs: of a renormalised subset, so never below the unfiltered ones; policy log-probs follow
    // log_softmax(logits / T) of the reference.
    for (int i = 0; i < PROMPTS.size(); i++) {
      Rollout r = a.get(i);
      float[][] full = fullRecompute(PROMPTS.get(i), r.tokens());
      for (int t = 0; t < r.tokens().length; t++) {
        assertThat(r.samplingLogProbs()[t]).isLessThanOrEqualTo(0f).isGreaterThanOrEqualTo(r.policyLogProbs()[t] - 1e-6f);
        float[] scaled = full[PROMPTS.get(i).length - 1 + t].clone();
        for (int v = 0; v < scaled.length; v++) {
          scaled[v] /= 0.9f;
        }
        assertThat((double) r.policyLogProbs()[t]).isCloseTo(logSoftmax(scaled, r.tokens()[t]), within(1e-4));
      }
    }

    List<Rollout> greedy = sampler.sample(PROMPTS, SamplingOptions.greedy(12, List.of(), PAD));
    List<Rollout> top1 = sampler.sample(PROMPTS, SamplingOptions.sampling(12, 3, List.of(), PAD).withTopK(1));
    for (int i = 0; i < PROMPTS.size(); i++) {
      assertThat(top1.get(i).tokens()).containsExactly(greedy.get(i).tokens());
      assertThat(top1.get(i).samplingLogProbs()).containsOnly(0f);
    }
  }

  @Test
  void stopTokenEndsItsRowAndLeavesTheOthersUnchanged() {
    List<Rollout> free = sampler.sample(PROMPTS, SamplingOptions.greedy(10, List.of(), PAD));
    int eos = free.get(1).tokens()[2];                   // row 1 emits it as its third token
    List<Rollout> stopped = sampler.sample(PROMPTS, SamplingOptions.greedy(10, List.of(eos), PAD));
    for (int b = 0; b < PROMPTS.size(); b++) {
      int[] f = free.get(b).tokens();
      int first = -1;
      for (int t = 0; t < f.length && first < 0; t++) {
        first = f[t] == eos ? t : -1;
      }
      Rollout s = stopped.get(b);
      if (first >= 0) {
        assertThat(s.finishedByEos()).isTrue();
        assertThat(s.tokens()).containsExactly(Arrays.copyOf(f, first + 1));   // EOS included, nothing after
      } else {
        assertThat(s.finishedByEos()).isFalse();
        assertThat(s.tokens()).containsExactly(f);       // a finished, masked neighbour changes nothing
      }
    }
    assertThat(stopped.get(1).tokens()).hasSizeLessThanOrEqualTo(3);
  }

  private static float[][] fullRecompute(int[] prompt, int[] generated) {
    int[] seq = new int[prompt.length + generated.length];
    System.arraycopy(prompt, 0, seq, 0, prompt.length);
    System.arraycopy(generated, 0, seq, prompt.length, generated.length);
    int[] mask = new int[seq.length];
    Arrays.fill(mask, 1);
    int[] pos = new int[seq.length];
    Arrays.setAll(pos, i -> i);
    return NaiveLlama.logits(weights, new int[][] {seq}, new int[][] {mask}, new int[][] {pos})[0];
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int v = 1; v < row.length; v++) {
      if (row[v] > row[best]) {
        best = v;
      }
    }
    return best;
  }

  private static double logSoftmax(float[] row, int token) {
    double max = Double.NEGATIVE_INFINITY;
    for (float x : row) {
      max = Math.max(max, x);
    }
    double s = 0;
    for (float x : row) {
      s += Math.exp(x - max);
    }
    return row[token] - max - Math.log(s);
  }
}
