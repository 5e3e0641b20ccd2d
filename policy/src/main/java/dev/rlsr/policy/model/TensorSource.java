// Named float32 tensors handed over one at a time: a safetensors file on disk, a TensorFlow graph's variables, or
// tensors already in memory. A model moves between file, TensorFlow and ONNX Runtime through this, so at real size
// no step needs a whole-model copy on the Java heap (a 0.5B model is 2 GB of float32 per copy).
package dev.rlsr.policy.model;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

public interface TensorSource {
  /** Every tensor's name and shape, in the order a consumer should take them (the layout order for a model). */
  LinkedHashMap<String, long[]> shapes();

  /**
   * One tensor's values. The caller must not modify the result (an in-memory source may return its own tensor);
   * a streaming source returns a fresh copy the caller drops when done.
   *
   * @throws IllegalArgumentException when the source has no tensor of that name
   */
  FloatTensor read(String name);

  /** Writes one tensor's values into {@code dst} (row-major, {@code numel} floats from its position). */
  default void readInto(String name, FloatBuffer dst) {
    dst.put(read(name).data());
  }

  /** Total number of values. */
  default long numel() {
    long n = 0;
    for (long[] s : shapes().values()) {
      n += FloatTensor.numel(s);
    }
    return n;
  }

  /** A copy of a name -> shape map (each shape cloned): what {@link #shapes} hands out so callers cannot change it. */
  static LinkedHashMap<String, long[]> copyShapes(Map<String, long[]> shapes) {
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
    shapes.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }

  /**
   * A view of {@code source} under other names: the tensors of {@code layout} (name -> shape, in its order), each
   * read from {@code source} by its name there, {@code sourceName.get(name)}. Nothing is copied.
   */
  static TensorSource renamed(TensorSource source, LinkedHashMap<String, long[]> layout, Map<String, String> sourceName) {
    return new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        return copyShapes(layout);
      }

      @Override
      public FloatTensor read(String name) {
        return source.read(sourceName(name));
      }

      @Override
      public void readInto(String name, FloatBuffer dst) {
        source.readInto(sourceName(name), dst);
      }

      private String sourceName(String name) {
        String n = sourceName.get(name);
        if (n == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        return n;
      }
    };
  }

  /** The tensors of a map, in its iteration order, as a source (the map's own tensors are handed out, not copies). */
  static TensorSource of(Map<String, FloatTensor> tensors) {
    LinkedHashMap<String, FloatTensor> copy = new LinkedHashMap<>(tensors);
    return new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
        copy.forEach((k, v) -> out.put(k, v.shape().clone()));
        return out;
      }

      @Override
      public FloatTensor read(String name) {
        FloatTensor t = copy.get(name);
        if (t == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        return t;
      }
    };
  }
}
