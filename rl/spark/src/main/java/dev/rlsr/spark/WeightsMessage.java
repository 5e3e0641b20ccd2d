// A set of named float32 tensors as one Spark broadcast value: the policy's weights (or a LoRA adapter, or the
// frozen base) of one version, read back on an executor as a TensorSource.
package dev.rlsr.spark;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.TensorSource;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Each tensor's values are one little-endian byte array (Java serialization copies byte arrays as they are, and a
 * tensor stays under the 2 GiB array limit: the largest at 1.5B parameters is 0.9 GB).
 *
 * @param version the weights' version: 0 at open, iteration + 1 after that iteration's update
 */
record WeightsMessage(long version, List<String> names, List<long[]> shapes, List<byte[]> data)
    implements Serializable {

  /** Copies every tensor of {@code source}, one at a time. */
  static WeightsMessage of(long version, TensorSource source) {
    List<String> names = new ArrayList<>();
    List<long[]> shapes = new ArrayList<>();
    List<byte[]> data = new ArrayList<>();
    source.shapes().forEach((name, shape) -> {
      long n = FloatTensor.numel(shape);
      byte[] bytes = new byte[Math.toIntExact(n * Float.BYTES)];
      FloatBuffer dst = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      source.readInto(name, dst);
      names.add(name);
      shapes.add(shape.clone());
      data.add(bytes);
    });
    return new WeightsMessage(version, names, shapes, data);
  }

  long bytes() {
    return data.stream().mapToLong(b -> b.length).sum();
  }

  /** The tensors, read from this message's bytes (each read is a fresh copy). */
  TensorSource source() {
    LinkedHashMap<String, long[]> layout = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      layout.put(names.get(i), shapes.get(i));
    }
    return new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        return TensorSource.copyShapes(layout);
      }

      @Override
      public FloatTensor read(String name) {
        int i = index(name);
        float[] v = new float[data.get(i).length / Float.BYTES];
        buffer(i).get(v);
        return new FloatTensor(shapes.get(i).clone(), v);
      }

      @Override
      public void readInto(String name, FloatBuffer dst) {
        dst.put(buffer(index(name)));
      }
    };
  }

  private FloatBuffer buffer(int i) {
    return ByteBuffer.wrap(data.get(i)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
  }

  private int index(String name) {
    int i = names.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("no tensor " + name + " in the weights of version " + version);
    }
    return i;
  }
}
