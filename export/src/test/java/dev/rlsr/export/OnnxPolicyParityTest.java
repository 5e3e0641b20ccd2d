// ONNX graph vs the naive reference: logits of padded batches for several architectures, and KV-cache decoding
// against full recomputation.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.NaiveLlama;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OnnxPolicyParityTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final double TOL = 1e-4;
  static final int[][] PROMPTS = {{5, 17, 3, 40, 9, 22, 61}, {8, 2}, {33, 12, 7, 7}};

  /** type, vocab, hidden, intermediate, layers, heads, kv heads, explicit head_dim, tied. */
  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of("llama untied GQA 4/2", ModelConfig.builder("llama").vocabSize(64).hiddenSize(32)
            .intermediateSize(48).layers(2).heads(4).kvHeads(2).tied(false).ropeTheta(10000).maxPositions(128).bosId(1)
            .eosId(2).build()),
        Arguments.of("llama tied MHA head_dim 12", ModelConfig.builder("llama").vocabSize(64).hiddenSize(32)
            .intermediateSize(48).layers(2).heads(4).kvHeads(4).headDim(12).tied(true).ropeTheta(10000)
            .maxPositions(128).bosId(1).eosId(2).build()),
        Arguments.of("qwen2 tied GQA 4/1 head_dim 12", ModelConfig.builder("qwen2").vocabSize(64).hiddenSize(32)
            .intermediateSize(48).layers(2).heads(4).kvHeads(1).headDim(12).tied(true).ropeTheta(1000000)
            .maxPositions(128).bosId(1).eosId(2).build()),
        Arguments.of("qwen2 untied GQA 4/2", ModelConfig.builder("qwen2").vocabSize(64).hiddenSize(32)
            .intermediateSize(48).layers(2).heads(4).kvHeads(2).tied(false).ropeTheta(10000).maxPositions(128).bosId(1)
            .eosId(2).build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void paddedBatchLogitsMatchNaive(String label, ModelConfig c) throws Exception {
    ModelWeights w = ModelWeights.random(c, 11);
    int[][][] padded = OrtTestIo.leftPad(PROMPTS, 0);
    int[][] ids = padded[0];
    int[][] mask = padded[1];
    int[][] pos = NaiveLlama.positionsFromMask(mask);
    float[][][] expected = NaiveLlama.logits(w, ids, mask, pos);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of());
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu")) {
      float[][][] actual = OrtTestIo.forward(ENV, s.session(), c, ids, mask, pos);
      assertThat(Logits.maxAbsDiff(actual, expected, mask)).isLessThan(TOL);
      // Not vacuous: the logits vary across the vocabulary.
      assertThat(Math.abs(expected[0][6][0] - expected[0][6][1])).isGreaterThan(1e-4f);
    }
    // The rollout variant: logits of the last position only, [B, 1, V].
    byte[] lastOnly = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of(), OnnxPolicyExporter.Logits.LAST);
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, lastOnly, w, 1, "cpu")) {
      float[][][] actual = OrtTestIo.forward(ENV, s.session(), c, ids, mask, pos);
      float[][][] expectedLast = new float[ids.length][][];
      int[][] ones = new int[ids.length][1];
      for (int b = 0; b < ids.length; b++) {
        expectedLast[b] = new float[][] {expected[b][ids[b].length - 1]};
        ones[b][0] = 1;
      }
      assertThat(actual[0]).hasNumberOfRows(1);
      assertThat(Logits.maxAbsDiff(actual, expectedLast, ones)).isLessThan(TOL);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void kvCacheDecodingMatchesFullRecompute(String label, ModelConfig c) throws Exception {
    ModelWeights w = ModelWeights.random(c, 12);
    int[][][] padded = OrtTestIo.leftPad(PROMPTS, 0);
    int batch = PROMPTS.length;
    int prefill = padded[0][0].length;
    int steps = 8;
    int total = prefill + steps;
    // The whole sequence as the cache will have seen it. Row 1 "finishes" after step 3: it then feeds pad with
    // mask 0, as the sampler does, and only its real positions are compared.
    int[][] ids = new int[batch][total];
    int[][] mask = new int[batch][total];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < total; t++) {
        boolean inPrompt = t < prefill;
        boolean finished = b == 1 && t >= prefill + 3;
        ids[b][t] = inPrompt ? padded[0][b][t] : finished ? 0 : (7 * b + 3 * t) % c.vocabSize();
        mask[b][t] = inPrompt ? padded[1][b][t] : finished ? 0 : 1;
      }
    }
    int[][] pos = NaiveLlama.positionsFromMask(mask);
    float[][][] expected = NaiveLlama.logits(w, ids, mask, pos);

    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of());
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu")) {
      OrtTestIo.decodeWithCache(ENV, s.session(), c, ids, mask, pos, prefill, (done, len, r) -> {
        float[][][] logits = (float[][][]) r.get("logits").orElseThrow().getValue();
        float[][][] expectedStep = new float[batch][][];
        for (int b = 0; b < batch; b++) {
          expectedStep[b] = java.util.Arrays.copyOfRange(expected[b], done, done + len);
        }
        assertThat(Logits.maxAbsDiff(logits, expectedStep, OrtTestIo.slice(mask, done, len)))
            .as("step starting at %d", done).isLessThan(TOL);
        long[] keyShape = ((OnnxTensor) r.get("present.0.key").orElseThrow()).getInfo().getShape();
        assertThat(keyShape).containsExactly(batch, c.numKvHeads(), done + len, c.headDim());
      });
    }
  }

}
