// The float32 matmul peak of this machine as TensorFlow reaches it with the run's threads: the denominator of MFU,
// measured in the same run as the benchmark it divides.
package dev.rlsr.cli;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import java.util.List;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

final class MatmulPeak {
  /** Square size n: one product is 2 n^3 FLOPs (17.2 GFLOP at 2048). */
  static final int N = 2048;
  static final int REPEATS = 5;

  private MatmulPeak() {}

  /**
   * FLOP/s of an [N, N] x [N, N] float32 matmul in a TensorFlow session with {@code threads} intra-op threads
   * (operands are random variables resident in the session, so only the product is timed): the best of
   * {@link #REPEATS} runs after one warm-up, as a peak should be.
   */
  static double measure(int threads) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var va = tf.variable(Shape.of(N, N), TFloat32.class);
      var vb = tf.variable(Shape.of(N, N), TFloat32.class);
      var init = List.of(
          tf.assign(va, tf.random.randomStandardNormal(tf.constant(new int[] {N, N}), TFloat32.class)),
          tf.assign(vb, tf.random.randomStandardNormal(tf.constant(new int[] {N, N}), TFloat32.class)));
      Operand<TFloat32> sum = tf.reduceSum(tf.linalg.matMul(va, vb), tf.constant(new int[] {0, 1}));
      ConfigProto cp = ConfigProto.newBuilder().setIntraOpParallelismThreads(threads).setInterOpParallelismThreads(1)
          .build();
      try (Session s = new Session(g, cp)) {
        var r = s.runner();
        init.forEach(r::addTarget);
        r.run().close();
        s.runner().fetch(sum).run().close();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < REPEATS; i++) {
          long t0 = System.nanoTime();
          s.runner().fetch(sum).run().close();
          best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return 2.0 * N * N * (double) N / best;
      }
    }
  }
}
