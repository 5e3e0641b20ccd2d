// Float32 tensors between TensorSources and a TensorFlow session one tensor at a time: a TF tensor filled straight
// from a source (no Java array), and a source whose every read fetches one graph value. PolicyGraph's weight I/O and
// AdamW's moment I/O go through here, so neither ever holds a whole model outside the graph.
package dev.rlsr.policy.optim;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataStorageVisitor;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

public final class TfStreams {
  /** Values copied per step when a tensor's memory cannot be viewed as a NIO buffer. */
  private static final int CHUNK = 1 << 20;

  private TfStreams() {}

  /**
   * A float32 TF tensor of {@code shape} holding {@code source}'s tensor {@code name}, written by
   * {@link TensorSource#readInto} straight into the tensor's native memory. The caller closes it.
   */
  public static TFloat32 tensorOf(TensorSource source, String name, long[] shape) {
    TFloat32 t = TFloat32.tensorOf(Shape.of(shape));
    try {
      long n = FloatTensor.numel(shape);
      FloatBuffer view = view(t);
      if (view != null) {
        source.readInto(name, view);
        if (view.position() != n) {
          throw new IllegalStateException("tensor " + name + " gave " + view.position() + " values, shape "
              + Arrays.toString(shape) + " has " + n);
        }
      } else {
        copyStaged(source, name, n, t.asRawTensor().data().asFloats());
      }
      return t;
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  /** Runs {@code assign} fed with {@code source}'s tensor {@code name} through {@code feed}: one session call. */
  public static void assign(Session session, TensorSource source, String name, long[] shape,
      Placeholder<TFloat32> feed, Op assign) {
    try (TFloat32 t = tensorOf(source, name, shape)) {
      session.runner().feed(feed, t).addTarget(assign).run().close();
    }
  }

  /** Refuses a source whose tensor {@code name} is missing or has another shape than {@code want}. */
  public static void requireShape(Map<String, long[]> have, String name, long[] want) {
    long[] s = have.get(name);
    if (s == null) {
      throw new IllegalArgumentException("the tensor source has no tensor " + name + " (shape " + Arrays.toString(want)
          + ")");
    }
    if (!Arrays.equals(s, want)) {
      throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(s) + " in the source, "
          + Arrays.toString(want) + " in the graph");
    }
  }

  /**
   * A live view of graph values as a source, in the order of {@code values}: each {@link TensorSource#read} or
   * {@link TensorSource#readInto} fetches one value in its own session call, so at most one tensor is out of the
   * graph at a time. Reads see the values as they are at the time of the read.
   */
  public static TensorSource fetching(Supplier<Session> session, Map<String, ? extends Operand<TFloat32>> values) {
    LinkedHashMap<String, Operand<TFloat32>> ops = new LinkedHashMap<>(values);
    return new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
        ops.forEach((k, v) -> out.put(k, v.shape().asArray()));
        return out;
      }

      @Override
      public FloatTensor read(String name) {
        FloatTensor t = FloatTensor.zeros(op(name).shape().asArray());
        readInto(name, FloatBuffer.wrap(t.data()));
        return t;
      }

      @Override
      public void readInto(String name, FloatBuffer dst) {
        try (Result r = session.get().runner().fetch(op(name)).run()) {
          Tensor t = r.get(0);
          long n = t.shape().size();
          FloatBuffer view = view(t);
          if (view != null) {
            dst.put(view);
            return;
          }
          FloatDataBuffer src = t.asRawTensor().data().asFloats();
          float[] chunk = new float[(int) Math.min(n, CHUNK)];
          for (long at = 0; at < n; at += chunk.length) {
            int k = (int) Math.min(chunk.length, n - at);
            src.offset(at).read(chunk, 0, k);
            dst.put(chunk, 0, k);
          }
        }
      }

      private Operand<TFloat32> op(String name) {
        Operand<TFloat32> o = ops.get(name);
        if (o == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        return o;
      }
    };
  }

  /**
   * The native memory of a float32 tensor as a NIO buffer (native byte order, position 0, one float per value), or
   * null when TensorFlow's buffer does not expose it. Valid only while the tensor is open.
   */
  static FloatBuffer view(Tensor t) {
    long bytes = t.numBytes();
    if (bytes == 0 || bytes > Integer.MAX_VALUE) {
      return null;
    }
    ByteBuffer b = t.asRawTensor().data().accept(new DataStorageVisitor<ByteBuffer>() {
      @Override
      public ByteBuffer visit(ByteBuffer buffer) {
        return buffer.isDirect() && buffer.remaining() == bytes ? buffer.duplicate() : null;
      }

      @Override
      public ByteBuffer visit(long address, long length, long scale) {
        return length == bytes && address != 0 ? new AddressPointer(address, bytes).asByteBuffer() : null;
      }

      @Override
      public ByteBuffer fallback() {
        return null;
      }
    });
    return b == null ? null : b.order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  /** Fills a TF buffer through a tensor-sized off-heap staging buffer (when {@link #view} gives none). */
  static void copyStaged(TensorSource source, String name, long n, FloatDataBuffer dst) {
    ByteBuffer stage = dev.rlsr.policy.util.NativeBuffers.allocate(n * Float.BYTES);
    try {
      FloatBuffer f = stage.asFloatBuffer();
      source.readInto(name, f);
      if (f.position() != n) {
        throw new IllegalStateException("tensor " + name + " gave " + f.position() + " values, expected " + n);
      }
      f.flip();
      float[] chunk = new float[(int) Math.min(n, CHUNK)];
      for (long at = 0; at < n; at += chunk.length) {
        int k = (int) Math.min(chunk.length, n - at);
        f.get(chunk, 0, k);
        dst.offset(at).write(chunk, 0, k);
      }
    } finally {
      dev.rlsr.policy.util.NativeBuffers.free(stage);
    }
  }

  /** A JavaCPP pointer at a given address, only to wrap memory TensorFlow owns into a direct ByteBuffer. */
  private static final class AddressPointer extends BytePointer {
    AddressPointer(long address, long bytes) {
      this.address = address;
      this.capacity = bytes;
      this.limit = bytes;
    }

    @Override
    public int sizeof() {
      return 1;
    }
  }
}
