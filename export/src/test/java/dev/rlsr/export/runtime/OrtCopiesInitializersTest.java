// ONNX Runtime copies external initializers while it creates a session: overwriting the direct buffers afterwards
// (before the first run) changes no logit. OnnxPolicySessions.create frees those buffers right after creation on
// the strength of this; if an ONNX Runtime upgrade started reading them later, this test fails first.
package dev.rlsr.export.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.OrtTestIo;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OrtCopiesInitializersTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final ModelConfig CONFIG = TinyCheckpoints.qwen2(false);
  static final int[][] IDS = {{0, 4, 9, 13, 200}, {6, 1, 22, 50, 7}};
  static final int[][] MASK = {{0, 1, 1, 1, 1}, {1, 1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);

  @Test
  void overwritingTheBuffersAfterCreationChangesNothing() throws Exception {
    ModelWeights w = ModelWeights.random(CONFIG, 17);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of());
    float[][][] reference = NaiveLlama.logits(w, IDS, MASK, POS);
    int[] seen = {0};
    float[][][] afterOverwrite;
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, CONFIG, w, 1, Device.CPU, buffers -> {
      for (FloatBuffer b : buffers) {
        for (int i = 0; i < b.capacity(); i++) {
          b.put(i, 0f); // what the session would read if it still used our memory
        }
        seen[0]++;
      }
    })) {
      afterOverwrite = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS);
    }
    assertThat(seen[0]).isEqualTo(ModelWeights.layout(CONFIG).size());
    assertThat(Logits.maxAbsDiff(afterOverwrite, reference, MASK)).isLessThan(1e-4);

    // and zeroed weights do show in the logits, so the check above would see a session still reading the buffers
    LinkedHashMap<String, FloatTensor> zeros = new LinkedHashMap<>();
    ModelWeights.layout(CONFIG).forEach((n, shape) -> zeros.put(n, FloatTensor.zeros(shape)));
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, CONFIG, TensorSource.of(zeros), 1, Device.CPU)) {
      float[][][] zeroed = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS);
      assertThat(Logits.maxAbsDiff(zeroed, reference, MASK)).isGreaterThan(1e-2);
    }
  }

  @Test
  void sessionsStayCorrectWhileOthersAreCreatedAndFreed() throws Exception {
    // freed buffers get reused by later allocations: earlier sessions must not notice
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of());
    ModelWeights a = ModelWeights.random(CONFIG, 1);
    ModelWeights b = ModelWeights.random(CONFIG, 2);
    try (OnnxPolicySession first = OnnxPolicySessions.create(ENV, proto, a, 1, Device.CPU)) {
      for (int i = 0; i < 3; i++) {
        try (OnnxPolicySession other = OnnxPolicySessions.create(ENV, proto, b, 1, Device.CPU)) {
          assertThat(Logits.maxAbsDiff(OrtTestIo.forward(ENV, other.session(), CONFIG, IDS, MASK, POS),
              NaiveLlama.logits(b, IDS, MASK, POS), MASK)).isLessThan(1e-4);
        }
      }
      assertThat(Logits.maxAbsDiff(OrtTestIo.forward(ENV, first.session(), CONFIG, IDS, MASK, POS),
          NaiveLlama.logits(a, IDS, MASK, POS), MASK)).isLessThan(1e-4);
    }
  }

}
