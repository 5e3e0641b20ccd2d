// A base model with a LoRA adapter folded in, as a TensorSource: each adapted weight is W + (alpha / r) · B A,
// computed when that tensor is read; every other tensor is the base's. Streams the model tensor by tensor (only the
// adapter, a small fraction of the model, is held), so the rollout engine and an adapter directory loaded as a
// model see the merged weights without a merged copy of the model.
package dev.rlsr.policy.model;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

public final class MergedLora implements TensorSource {
  private final TensorSource base;
  private final TensorSource adapter;
  private final float scale;
  private final Map<String, String> adaptedWeights = new HashMap<>(); // weight name -> layer prefix
  private Map<String, FloatTensor> held; // the adapter, read on the first merge

  /**
   * @param base    the base model's tensors (its layout order is this source's order)
   * @param adapter the adapter's tensors in rlsr names ({@link LoraConfig#layout} of {@code c}), e.g.
   *                {@code PolicyGraph.adapter()}; read once, on the first merged tensor (take a fresh one per pass)
   */
  public MergedLora(ModelConfig c, LoraConfig lora, TensorSource base, TensorSource adapter) {
    this.base = base;
    this.adapter = adapter;
    this.scale = (float) lora.scale();
    LinkedHashMap<String, long[]> want = lora.layout(c);
    LinkedHashMap<String, long[]> have = adapter.shapes();
    for (var e : want.entrySet()) {
      long[] s = have.get(e.getKey());
      if (s == null || !java.util.Arrays.equals(s, e.getValue())) {
        throw new IllegalArgumentException("adapter tensor " + e.getKey() + " is " + (s == null ? "missing"
            : "of shape " + java.util.Arrays.toString(s)) + ", the adapter needs " + java.util.Arrays.toString(e.getValue()));
      }
    }
    lora.adaptedLayers(c).keySet().forEach(prefix -> adaptedWeights.put(prefix + ".weight", prefix));
  }

  @Override
  public LinkedHashMap<String, long[]> shapes() {
    return base.shapes();
  }

  @Override
  public FloatTensor read(String name) {
    String prefix = adaptedWeights.get(name);
    if (prefix == null) {
      return base.read(name);
    }
    FloatTensor w = base.read(name).copy(); // the base may hand out its own tensor
    merge(prefix, w.data(), w.shape());
    return w;
  }

  @Override
  public void readInto(String name, FloatBuffer dst) {
    String prefix = adaptedWeights.get(name);
    if (prefix == null) {
      base.readInto(name, dst);
      return;
    }
    dst.put(read(name).data());
  }

  /** w [out, in] += scale · B [out, r] A [r, in], row by row. */
  private void merge(String prefix, float[] w, long[] shape) {
    synchronized (this) {
      if (held == null) {
        held = new HashMap<>();
        for (String n : adapter.shapes().keySet()) {
          held.put(n, adapter.read(n).copy());
        }
      }
    }
    float[] a = held.get(LoraConfig.aName(prefix)).data();
    float[] b = held.get(LoraConfig.bName(prefix)).data();
    int out = (int) shape[0];
    int in = (int) shape[1];
    int r = b.length / out;
    float[] row = new float[in];
    for (int o = 0; o < out; o++) {
      java.util.Arrays.fill(row, 0f);
      for (int k = 0; k < r; k++) {
        float bk = b[o * r + k];
        if (bk == 0f) {
          continue;
        }
        int ak = k * in;
        for (int i = 0; i < in; i++) {
          row[i] += bk * a[ak + i];
        }
      }
      int wo = o * in;
      for (int i = 0; i < in; i++) {
        w[wo + i] += scale * row[i];
      }
    }
  }
}
