// A dense row-major float32 tensor: the in-memory form of every weight, whatever dtype its file used.
package dev.rlsr.policy.model;

import java.util.Arrays;

public record FloatTensor(long[] shape, float[] data) {
  public FloatTensor {
    long n = numel(shape);
    if (n != data.length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
    }
  }

  public static FloatTensor zeros(long... shape) {
    return new FloatTensor(shape.clone(), new float[Math.toIntExact(numel(shape))]);
  }

  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public int rank() {
    return shape.length;
  }

  public FloatTensor copy() {
    return new FloatTensor(shape.clone(), data.clone());
  }

  @Override
  public String toString() {
    return "FloatTensor" + Arrays.toString(shape);
  }
}
