// Test helpers for LoRA adapters: random adapters of a LoraConfig, the base weights with an adapter merged in
// (W + scale · B A, the reference every LoRA graph is compared with), and adapter tensors as ONNX Runtime inputs.
package dev.rlsr.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

public final class LoraTestWeights {
  private LoraTestWeights() {}

  /** Every A and B of {@code lora}'s layout uniform in [-amplitude, amplitude] (B non-zero, unlike PEFT's start). */
  public static LinkedHashMap<String, FloatTensor> random(ModelConfig c, LoraConfig lora, long seed, double amplitude) {
    SplittableRandom rng = new SplittableRandom(seed);
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    lora.layout(c).forEach((name, shape) -> {
      FloatTensor t = FloatTensor.zeros(shape);
      for (int i = 0; i < t.data().length; i++) {
        t.data()[i] = (float) rng.nextDouble(-amplitude, amplitude);
      }
      out.put(name, t);
    });
    return out;
  }

  /** {@code base} with W + scale · B A (computed in double) for every adapted layer; other tensors copied. */
  public static ModelWeights merged(ModelWeights base, LoraConfig lora, Map<String, FloatTensor> adapter) {
    ModelWeights m = base.copy();
    ModelConfig c = base.config();
    for (Map.Entry<String, long[]> e : lora.adaptedLayers(c).entrySet()) {
      float[] w = m.get(e.getKey() + ".weight").data();
      float[] a = adapter.get(LoraConfig.aName(e.getKey())).data();
      float[] b = adapter.get(LoraConfig.bName(e.getKey())).data();
      int out = (int) e.getValue()[0];
      int in = (int) e.getValue()[1];
      int r = lora.r();
      for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
          double sum = 0;
          for (int k = 0; k < r; k++) {
            sum += (double) b[o * r + k] * a[k * in + i];
          }
          w[o * in + i] = (float) (w[o * in + i] + lora.scale() * sum);
        }
      }
    }
    return m;
  }

  /** The adapter as ONNX Runtime tensors by name (heap buffers, copied by ONNX Runtime); the caller closes them. */
  public static LinkedHashMap<String, OnnxTensor> tensors(OrtEnvironment env, Map<String, FloatTensor> adapter)
      throws OrtException {
    LinkedHashMap<String, OnnxTensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, FloatTensor> e : adapter.entrySet()) {
      out.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().data()), e.getValue().shape()));
    }
    return out;
  }
}
