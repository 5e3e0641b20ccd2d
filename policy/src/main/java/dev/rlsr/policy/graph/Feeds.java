// Fast conversions between Java arrays and TensorFlow tensors (raw buffer writes, see shared notes), and Run: one
// session call whose feeds are built from Java arrays and closed with it (what a loss uses to feed its inputs).
package dev.rlsr.policy.graph;

import dev.rlsr.policy.model.FloatTensor;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

public final class Feeds {
  private Feeds() {}

  public static TInt32 ints(int[][] a) {
    int b = a.length;
    int t = b == 0 ? 0 : a[0].length;
    int[] flat = new int[b * t];
    for (int i = 0; i < b; i++) {
      if (a[i].length != t) {
        throw new IllegalArgumentException("ragged batch: row " + i + " has " + a[i].length + " tokens, row 0 has " + t);
      }
      System.arraycopy(a[i], 0, flat, i * t, t);
    }
    return TInt32.tensorOf(Shape.of(b, t), x -> x.asRawTensor().data().asInts().write(flat));
  }

  public static TFloat32 floats(float[][] a) {
    int b = a.length;
    int t = b == 0 ? 0 : a[0].length;
    float[] flat = new float[b * t];
    for (int i = 0; i < b; i++) {
      System.arraycopy(a[i], 0, flat, i * t, t);
    }
    return TFloat32.tensorOf(Shape.of(b, t), x -> x.asRawTensor().data().asFloats().write(flat));
  }

  public static TFloat32 floats(float[] a) {
    return TFloat32.tensorOf(Shape.of(a.length), x -> x.asRawTensor().data().asFloats().write(a));
  }

  public static TFloat32 floats(FloatTensor w) {
    return TFloat32.tensorOf(Shape.of(w.shape()), x -> x.asRawTensor().data().asFloats().write(w.data()));
  }

  public static TFloat32 scalar(float v) {
    return TFloat32.scalarOf(v);
  }

  static float scalar(Tensor t) {
    float[] one = new float[1];
    t.asRawTensor().data().asFloats().read(one);
    return one[0];
  }

  static float[][] read2d(Tensor t, int b, int n) {
    float[] flat = new float[b * n];
    t.asRawTensor().data().asFloats().read(flat);
    float[][] out = new float[b][n];
    for (int i = 0; i < b; i++) {
      System.arraycopy(flat, i * n, out[i], 0, n);
    }
    return out;
  }

  /** One session call being assembled: feeds from Java arrays (closed by {@link #close}), fetches and targets. */
  public static final class Run implements AutoCloseable {
    private final Session.Runner runner;
    private final List<Tensor> open = new ArrayList<>();

    Run(Session session) {
      this.runner = session.runner();
    }

    /** [B, T] int32. */
    public Run ints(Operand<TInt32> placeholder, int[][] a) {
      runner.feed(placeholder, keep(Feeds.ints(a)));
      return this;
    }

    /** [B, T] float32. */
    public Run floats(Operand<TFloat32> placeholder, float[][] a) {
      runner.feed(placeholder, keep(Feeds.floats(a)));
      return this;
    }

    public Run floats(Operand<TFloat32> placeholder, FloatTensor w) {
      runner.feed(placeholder, keep(Feeds.floats(w)));
      return this;
    }

    public Run scalar(Operand<TFloat32> placeholder, float v) {
      runner.feed(placeholder, keep(TFloat32.scalarOf(v)));
      return this;
    }

    /** A 1-D int64 vector. */
    public Run longs(Operand<TInt64> placeholder, long[] v) {
      runner.feed(placeholder, keep(TInt64.vectorOf(v)));
      return this;
    }

    Run fetch(Operand<?> op) {
      runner.fetch(op);
      return this;
    }

    Run target(org.tensorflow.op.Op op) {
      runner.addTarget(op);
      return this;
    }

    Result run() {
      return runner.run();
    }

    private Tensor keep(Tensor t) {
      open.add(t);
      return t;
    }

    @Override
    public void close() {
      open.forEach(Tensor::close);
      open.clear();
    }
  }
}
