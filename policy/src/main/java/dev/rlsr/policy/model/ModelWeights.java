// The weights of a Llama-family model by Hugging Face tensor name, with the layout a config implies.
package dev.rlsr.policy.model;

import dev.rlsr.policy.util.RlsrException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

public final class ModelWeights implements TensorSource {
  private final ModelConfig config;
  private final LinkedHashMap<String, FloatTensor> tensors;

  public ModelWeights(ModelConfig config, Map<String, FloatTensor> tensors) {
    this.config = config;
    this.tensors = new LinkedHashMap<>(tensors);
  }

  public ModelConfig config() {
    return config;
  }

  /** Tensors in {@link #layout} order, by HF name. */
  public LinkedHashMap<String, FloatTensor> tensors() {
    return tensors;
  }

  /** Names and shapes in layout order. */
  @Override
  public LinkedHashMap<String, long[]> shapes() {
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
    tensors.forEach((k, v) -> out.put(k, v.shape()));
    return out;
  }

  /** The stored tensor itself (not a copy). */
  @Override
  public FloatTensor read(String name) {
    return get(name);
  }

  public FloatTensor get(String name) {
    FloatTensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no tensor " + name);
    }
    return t;
  }

  /** lm_head weight: embed_tokens when tied. */
  public FloatTensor lmHead() {
    return config.tieWordEmbeddings() ? get("model.embed_tokens.weight") : get("lm_head.weight");
  }

  public long parameterCount() {
    return tensors.values().stream().mapToLong(t -> t.data().length).sum();
  }

  public ModelWeights copy() {
    LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
    tensors.forEach((k, v) -> m.put(k, v.copy()));
    return new ModelWeights(config, m);
  }

  /** Every tensor name the architecture has, in forward-pass order, with its shape: the family's layout. */
  public static LinkedHashMap<String, long[]> layout(ModelConfig c) {
    return c.family().layout(c);
  }

  /** True for tensors AdamW does not decay: norms and biases (1-D tensors). */
  public static boolean isNoDecay(String name) {
    return name.endsWith("norm.weight") || name.endsWith(".bias");
  }

  /**
   * Checks loaded tensors against the layout: every tensor present with its shape. Extra tensors that HF
   * checkpoints carry but the graph does not use (rotary inv_freq buffers, a tied lm_head copy) are dropped.
   */
  public static ModelWeights fromLoaded(ModelConfig c, Map<String, FloatTensor> loaded, String source) {
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    for (var e : layout(c).entrySet()) {
      FloatTensor t = loaded.get(e.getKey());
      if (t == null) {
        throw new RlsrException(source + ": missing tensor \"" + e.getKey() + "\" (expected shape "
            + Arrays.toString(e.getValue()) + ")");
      }
      if (!Arrays.equals(t.shape(), e.getValue())) {
        throw new RlsrException(source + ": tensor \"" + e.getKey() + "\" has shape " + Arrays.toString(t.shape())
            + ", config.json implies " + Arrays.toString(e.getValue()));
      }
      out.put(e.getKey(), t);
    }
    return new ModelWeights(c, out);
  }

  /**
   * Random init: normal(0, 0.02) for matrices and biases, ones for norms. (HF zeroes biases; small random
   * ones make the q/k/v bias path visible in parity tests.)
   */
  public static ModelWeights random(ModelConfig c, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
    for (var e : layout(c).entrySet()) {
      FloatTensor t = FloatTensor.zeros(e.getValue());
      String n = e.getKey();
      if (n.endsWith("norm.weight")) {
        Arrays.fill(t.data(), 1f);
      } else {
        for (int i = 0; i < t.data().length; i++) {
          t.data()[i] = (float) (gaussian(rng) * 0.02);
        }
      }
      m.put(n, t);
    }
    return new ModelWeights(c, m);
  }

  private static double gaussian(SplittableRandom r) {
    double u1 = r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
