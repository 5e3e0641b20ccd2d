// Random weights for a config, generated one tensor at a time on read (a TensorSource), so a benchmark at real
// size (494M parameters for Qwen2.5-0.5B) never holds the whole model on the Java heap.
package dev.rlsr.policy.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.SplittableRandom;

/**
 * The init of {@link ModelWeights#random} (normal(0, 0.02) for matrices and biases, ones for norms) with a
 * generator per tensor, seeded from the run seed and the tensor's name, so reading a tensor twice, or in another
 * order, gives the same values. The values differ from {@link ModelWeights#random}, whose single generator runs
 * through the tensors in layout order (the demo's base-model recipe depends on it).
 */
public final class RandomWeights implements TensorSource {
  private final ModelConfig config;
  private final long seed;
  private final LinkedHashMap<String, long[]> shapes;

  public RandomWeights(ModelConfig config, long seed) {
    this.config = config;
    this.seed = seed;
    this.shapes = ModelWeights.layout(config);
  }

  public ModelConfig config() {
    return config;
  }

  @Override
  public LinkedHashMap<String, long[]> shapes() {
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
    shapes.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }

  @Override
  public FloatTensor read(String name) {
    long[] shape = shapes.get(name);
    if (shape == null) {
      throw new IllegalArgumentException("no tensor " + name + " in a " + config.modelType() + " model");
    }
    FloatTensor t = FloatTensor.zeros(shape);
    float[] d = t.data();
    if (name.endsWith("norm.weight")) {
      Arrays.fill(d, 1f);
      return t;
    }
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (rng.nextGaussian() * 0.02);
    }
    return t;
  }
}
