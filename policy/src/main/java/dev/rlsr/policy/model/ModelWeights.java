// The weights of a Llama-family model by Hugging Face tensor name, with the layout a config implies.
package dev.rlsr.policy.model;

import dev.rlsr.policy.util.RlsrException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

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
      checkLoaded(source, e.getKey(), e.getValue(), t == null ? null : t.shape());
      out.put(e.getKey(), t);
    }
    return new ModelWeights(c, out);
  }

  /**
   * The streaming counterpart of {@link #fromLoaded}: a view of {@code loaded} that holds the layout's tensors in
   * layout order, each checked present with its shape now (same refusals), and reads them only when asked. Extra
   * tensors of {@code loaded} are not part of the view.
   */
  public static TensorSource checkedLayout(ModelConfig c, TensorSource loaded, String source) {
    LinkedHashMap<String, long[]> have = loaded.shapes();
    LinkedHashMap<String, long[]> want = layout(c);
    for (var e : want.entrySet()) {
      checkLoaded(source, e.getKey(), e.getValue(), have.get(e.getKey()));
    }
    return new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
        want.forEach((k, v) -> out.put(k, v.clone()));
        return out;
      }

      @Override
      public FloatTensor read(String name) {
        return loaded.read(known(name));
      }

      @Override
      public void readInto(String name, java.nio.FloatBuffer dst) {
        loaded.readInto(known(name), dst);
      }

      private String known(String name) {
        if (!want.containsKey(name)) {
          throw new IllegalArgumentException("no tensor " + name + " in the " + c.modelType() + " layout");
        }
        return name;
      }
    };
  }

  /**
   * Every layout tensor of {@code source} read into memory: for tests and small models only (a 0.5B model is 2 GB
   * here); the trainers and exporters stream from the source instead.
   */
  public static ModelWeights read(ModelConfig c, TensorSource source) {
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    LinkedHashMap<String, long[]> have = source.shapes();
    for (var e : layout(c).entrySet()) {
      checkLoaded("tensor source", e.getKey(), e.getValue(), have.get(e.getKey()));
      FloatTensor t = source.read(e.getKey());
      out.put(e.getKey(), new FloatTensor(e.getValue().clone(), t.data()));
    }
    return new ModelWeights(c, out);
  }

  private static void checkLoaded(String source, String name, long[] expected, long[] shape) {
    if (shape == null) {
      throw new RlsrException(source + ": missing tensor \"" + name + "\" (expected shape "
          + Arrays.toString(expected) + ")");
    }
    if (!Arrays.equals(shape, expected)) {
      throw new RlsrException(source + ": tensor \"" + name + "\" has shape " + Arrays.toString(shape)
          + ", config.json implies " + Arrays.toString(expected));
    }
  }

  /**
   * Random init: normal(0, 0.02) for matrices and biases, ones for norms. (HF zeroes biases; small random
   * ones make the q/k/v bias path visible in parity tests.)
   */
  public static ModelWeights random(ModelConfig c, long seed) {
    return read(c, new RandomWeights(c, seed));
  }
}
