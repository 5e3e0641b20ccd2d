// A fresh LoRA adapter as PEFT initialises one, drawn tensor by tensor when read: B = 0 (so the adapted model starts
// as the base), A from kaiming-uniform(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), seeded so runs repeat.
package dev.rlsr.policy.model;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SplittableRandom;

/** Each A is drawn from its own {@code SplittableRandom} (the seed mixed with the tensor's index), so reads repeat. */
public final class LoraInit implements TensorSource {
  private final LinkedHashMap<String, long[]> layout;
  private final List<String> names;
  private final long seed;

  /** The adapter of {@code lora} on {@code c} (rlsr names, {@link LoraConfig#layout} order). */
  public LoraInit(ModelConfig c, LoraConfig lora, long seed) {
    this.layout = lora.layout(c);
    this.names = new ArrayList<>(layout.keySet());
    this.seed = seed;
  }

  @Override
  public LinkedHashMap<String, long[]> shapes() {
    return TensorSource.copyShapes(layout);
  }

  @Override
  public FloatTensor read(String name) {
    FloatTensor t = FloatTensor.zeros(shape(name));
    readInto(name, FloatBuffer.wrap(t.data()));
    return t;
  }

  @Override
  public void readInto(String name, FloatBuffer dst) {
    long[] s = shape(name);
    long n = FloatTensor.numel(s);
    if (name.endsWith(".lora_B.weight")) {
      for (long i = 0; i < n; i++) {
        dst.put(0f);
      }
      return;
    }
    // torch.nn.init.kaiming_uniform_(A, a=sqrt(5)): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in) = 1/sqrt(in)
    double bound = 1.0 / Math.sqrt(s[1]);
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + names.indexOf(name));
    for (long i = 0; i < n; i++) {
      dst.put((float) ((rng.nextDouble() * 2 - 1) * bound));
    }
  }

  private long[] shape(String name) {
    long[] s = layout.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no adapter tensor " + name);
    }
    return s;
  }
}
