// The random initial weights of ModelWeights.random as a TensorSource that draws each tensor when it is read, so a
// model created from scratch at real size is written out tensor by tensor instead of built in memory first.
package dev.rlsr.policy.model;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SplittableRandom;

/**
 * normal(0, 0.02) for matrices and biases, ones for norms, drawn from one {@code SplittableRandom(seed)} through the
 * tensors in layout order. Reading the tensors in that order costs one draw per value; reading one out of order
 * replays the draws of the tensors before it, so every read gives the same values whatever the order.
 */
public final class RandomWeights implements TensorSource {
  private final LinkedHashMap<String, long[]> layout;
  private final List<String> names;
  private final long seed;
  private SplittableRandom rng;
  private int next; // index of the tensor rng's next draws belong to

  public RandomWeights(ModelConfig c, long seed) {
    this.layout = ModelWeights.layout(c);
    this.names = new ArrayList<>(layout.keySet());
    this.seed = seed;
    this.rng = new SplittableRandom(seed);
  }

  @Override
  public LinkedHashMap<String, long[]> shapes() {
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
    layout.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }

  @Override
  public FloatTensor read(String name) {
    FloatTensor t = FloatTensor.zeros(shape(name));
    readInto(name, FloatBuffer.wrap(t.data()));
    return t;
  }

  @Override
  public synchronized void readInto(String name, FloatBuffer dst) {
    long n = FloatTensor.numel(shape(name));
    int index = names.indexOf(name);
    if (index < next) {
      rng = new SplittableRandom(seed);
      next = 0;
    }
    for (; next < index; next++) {
      String skipped = names.get(next);
      if (!isNorm(skipped)) {
        for (long i = FloatTensor.numel(layout.get(skipped)); i > 0; i--) {
          gaussian(rng);
        }
      }
    }
    if (isNorm(name)) {
      for (long i = 0; i < n; i++) {
        dst.put(1f);
      }
    } else {
      for (long i = 0; i < n; i++) {
        dst.put((float) (gaussian(rng) * 0.02));
      }
    }
    next = index + 1;
  }

  private long[] shape(String name) {
    long[] s = layout.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no tensor " + name);
    }
    return s;
  }

  private static boolean isNorm(String name) {
    return name.endsWith("norm.weight");
  }

  private static double gaussian(SplittableRandom r) {
    double u1 = r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
