// TensorFlow graph vs the naive reference for every family variant (qwen3 q/k norm, llama3 and linear rope scaling,
// mistral) on batches of 320 tokens, far past the llama3 original context of 64 so every frequency band is used.
package dev.rlsr.policy.graph;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.FamilyConfigs;
import dev.rlsr.policy.testing.NaiveLlama;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class FamilyGraphParityTest {
  static List<String> labels() {
    return FamilyConfigs.labels();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("labels")
  void longSequenceLogitsMatchNaive(String label) {
    ModelConfig c = FamilyConfigs.all().get(label);
    ModelWeights w = FamilyConfigs.weights(c, 21);
    int[][][] batch = FamilyConfigs.longBatch(c.vocabSize());
    float[][][] ref = NaiveLlama.logits(w, batch[0], batch[1], batch[2]);
    float[][][] tf = Logits.tf(w, batch[0], batch[1], batch[2]);
    double diff = Logits.maxAbsDiff(tf, ref, batch[1]);
    System.out.printf("TF vs naive, %s, %d tokens: max |logit diff| %.3g (max |logit| %.3g)%n", label,
        FamilyConfigs.LONG, diff, Logits.maxAbs(ref, batch[1]));
    assertThat(diff).as(label).isLessThanOrEqualTo(1e-4);

    if (c.raw().has("rope_scaling")) {
      // Not vacuous: without the scaling the same weights give other logits at long positions
      ObjectNode plain = c.toJson();
      plain.remove("rope_scaling");
      ModelConfig unscaled = ModelConfig.fromJson(plain, "unscaled");
      float[][][] other = NaiveLlama.logits(new ModelWeights(unscaled, w.tensors()), batch[0], batch[1], batch[2]);
      assertThat(Logits.maxAbsDiff(other, ref, batch[1])).as(label + " scaling changes logits").isGreaterThan(1e-2);
    }
  }
}
