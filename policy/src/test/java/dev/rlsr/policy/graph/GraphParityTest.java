// Golden test of the TensorFlow graph: log-probs on tiny random Hugging Face checkpoints (both model types, GQA,
// tied and untied, BF16 and F32 files, head_dim given) equal the naive plain-Java forward pass to 1e-4.
package dev.rlsr.policy.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GraphParityTest {
  @TempDir Path tmp;

  static Stream<Arguments> checkpoints() {
    return Stream.of(
        Arguments.of("llama untied F32", TinyCheckpoints.llama(false), Safetensors.DType.F32),
        Arguments.of("llama tied BF16", TinyCheckpoints.llama(true), Safetensors.DType.BF16),
        Arguments.of("qwen2 tied F32", TinyCheckpoints.qwen2(true), Safetensors.DType.F32),
        Arguments.of("qwen2 untied BF16", TinyCheckpoints.qwen2(false), Safetensors.DType.BF16),
        Arguments.of("llama head_dim=16 MHA", ModelConfig.builder("llama").vocabSize(TinyCheckpoints.VOCAB)
            .hiddenSize(32).intermediateSize(64).layers(2).heads(4).kvHeads(4).headDim(16).tied(false)
            .ropeTheta(500000.0).maxPositions(128).bosId(TinyCheckpoints.BOS).eosId(TinyCheckpoints.EOS)
            .build(), Safetensors.DType.F32));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("checkpoints")
  void logprobsMatchNaiveForward(String label, ModelConfig config, Safetensors.DType dtype) {
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), config, dtype, 7);
    try (HfModel model = HfModel.load(dir);
        PolicyGraph g = PolicyGraph.create(model.weights(), PolicyGraph.Options.inference(1), List.of())) {
      int[][] ids = {{3, 17, 200, 45, 9, 120, 66, 5}, {250, 1, 2, 3, 0, 0, 0, 0}};
      int[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 0, 0}};
      int[][] pos = {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7}};
      int[][] targets = new int[2][8];
      for (int b = 0; b < 2; b++) {
        for (int t = 0; t < 7; t++) {
          targets[b][t] = ids[b][t + 1];
        }
      }
      float[][] tf = g.forward(ids, targets, mask, pos, false).logprobs();
      float[][][] ref = NaiveLlama.logits(model.weights(), ids, mask, pos);
      double worst = 0;
      for (int b = 0; b < 2; b++) {
        for (int t = 0; t < 7; t++) {
          if (mask[b][t + 1] == 0) {
            continue; // padding targets are never scored
          }
          double lp = logSoftmaxAt(ref[b][t], targets[b][t]);
          worst = Math.max(worst, Math.abs(lp - tf[b][t]));
        }
      }
      assertThat(worst).as(label + " max |logprob diff|").isLessThanOrEqualTo(1e-4);
      // logits too, at every real position
      float[] logits = g.logits(ids, mask, pos);
      int v = config.vocabSize();
      double worstLogit = 0;
      for (int b = 0; b < 2; b++) {
        for (int t = 0; t < 8; t++) {
          if (mask[b][t] == 0) {
            continue;
          }
          for (int k = 0; k < v; k++) {
            worstLogit = Math.max(worstLogit, Math.abs(logits[(b * 8 + t) * v + k] - ref[b][t][k]));
          }
        }
      }
      assertThat(worstLogit).as(label + " max |logit diff|").isLessThanOrEqualTo(1e-4);
    }
  }

  static double logSoftmaxAt(float[] logits, int k) {
    double max = Double.NEGATIVE_INFINITY;
    for (float x : logits) {
      max = Math.max(max, x);
    }
    double s = 0;
    for (float x : logits) {
      s += Math.exp(x - max);
    }
    return logits[k] - max - Math.log(s);
  }
}
