// Float32 tensors between TensorSources and a TensorFlow session in small groups: TF tensors filled straight from a
// source (no Java array) and assigned a group per session call, and a source that fetches a group of graph values per
// call. PolicyGraph's weight I/O and AdamW's moment I/O go through here, so neither holds a whole model outside the
// graph.
package dev.rlsr.policy.optim;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
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

/**
 * Why groups and not one tensor per call: every session call with a new set of feeds, fetches and targets makes
 * TensorFlow prune the whole graph into a new executor (measured ~0.25 s per call on a 24-layer training graph, however
 * small the tensor: 290 weights took 71 s to assign one by one, 154 s to fetch the 580 moments), and a call with the
 * same set reuses it. Tensors are therefore grouped, in order, into runs of up to {@link #GROUP_BYTES} (a larger tensor
 * is a group of its own): at Qwen2.5-0.5B about ten calls for the weights, and the same groups each time.
 */
public final class TfStreams {
  /** Most bytes of one group of tensors moved in one session call (a larger tensor is moved alone). */
  public static final long GROUP_BYTES = 256L << 20;
  /** Values copied per step when a tensor's memory cannot be viewed as a NIO buffer. */
  private static final int CHUNK = 1 << 20;

  /** Where one tensor goes in the graph: fed through {@code feed} into the assign op {@code assign}. */
  public record Assignment(long[] shape, Placeholder<TFloat32> feed, Op assign) {}

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

  /**
   * Assigns {@code source}'s tensor of each name (in order) through its {@link Assignment}: one session call per
   * group of up to {@link #GROUP_BYTES}, each tensor written straight into TensorFlow's memory, the group's tensors
   * closed after the call. At most one group is out of the graph at a time.
   */
  public static void assignAll(Session session, TensorSource source, LinkedHashMap<String, Assignment> assignments) {
    LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
    assignments.forEach((name, a) -> shapes.put(name, a.shape()));
    for (List<String> group : groups(shapes)) {
      List<TFloat32> open = new ArrayList<>();
      try {
        Session.Runner runner = session.runner();
        for (String name : group) {
          Assignment a = assignments.get(name);
          TFloat32 t = tensorOf(source, name, a.shape());
          open.add(t);
          runner.feed(a.feed(), t).addTarget(a.assign());
        }
        runner.run().close();
      } finally {
        open.forEach(TFloat32::close);
      }
    }
  }

  /** Consecutive runs of {@code shapes}' names of at most {@link #GROUP_BYTES} float32 bytes each (or one tensor). */
  static List<List<String>> groups(LinkedHashMap<String, long[]> shapes) {
    List<List<String>> out = new ArrayList<>();
    List<String> group = new ArrayList<>();
    long bytes = 0;
    for (var e : shapes.entrySet()) {
      long b = FloatTensor.numel(e.getValue()) * Float.BYTES;
      if (!group.isEmpty() && bytes + b > GROUP_BYTES) {
        out.add(group);
        group = new ArrayList<>();
        bytes = 0;
      }
      group.add(e.getKey());
      bytes += b;
    }
    if (!group.isEmpty()) {
      out.add(group);
    }
    return out;
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
   * A view of graph values as a source, in the order of {@code values}. The first read of a tensor fetches its whole
   * group ({@link #groups}) in one session call; the group's other tensors are held, natively, until each is read
   * once (then the group is released), so reading the source in order holds at most one group. A tensor is always
   * served from the fetch that covered it: read a view in one pass while the graph does not change (a checkpoint
   * save, a weight sync), and take a new view for the next pass. A read out of turn drops what is held and fetches
   * again.
   */
  public static TensorSource fetching(Supplier<Session> session, Map<String, ? extends Operand<TFloat32>> values) {
    LinkedHashMap<String, Operand<TFloat32>> ops = new LinkedHashMap<>(values);
    LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
    ops.forEach((k, v) -> shapes.put(k, v.shape().asArray()));
    Map<String, List<String>> groupOf = new java.util.HashMap<>();
    for (List<String> g : groups(shapes)) {
      g.forEach(name -> groupOf.put(name, g));
    }
    return new TensorSource() {
      private Result held;                                      // the last group fetch, open until all are read
      private final Map<String, Tensor> unread = new LinkedHashMap<>();

      @Override
      public LinkedHashMap<String, long[]> shapes() {
        LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
        shapes.forEach((k, v) -> out.put(k, v.clone()));
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
        shape(name);
        if (!unread.containsKey(name)) {
          release();
          List<String> group = groupOf.get(name);
          Session.Runner runner = session.get().runner();
          group.forEach(n -> runner.fetch(ops.get(n)));
          held = runner.run();
          for (int i = 0; i < group.size(); i++) {
            unread.put(group.get(i), held.get(i));
          }
        }
        copy(unread.remove(name), dst);
        if (unread.isEmpty()) {
          release();
        }
      }

      private void release() {
        unread.clear();
        if (held != null) {
          held.close();
          held = null;
        }
      }

      private long[] shape(String name) {
        long[] s = shapes.get(name);
        if (s == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        return s;
      }
    };
  }

  /** A fetched float32 tensor's values into {@code dst} at its position. */
  private static void copy(Tensor t, FloatBuffer dst) {
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
