// The per-token log-prob head without [tokens, vocab] tensors: log p(target) = logit(target) - logsumexp(logits) and
// the entropy metric, over row chunks of the final hidden states in a while loop (one chunk's [rows, V] at a time),
// and its gradient written by hand, recomputing each chunk's logits, so autodiff never keeps the logits alive.
package dev.rlsr.policy.graph;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Max;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * With z = (h / temperature) W^T one chunk of rows at a time (held as [V, rows], never all N rows at once):
 * log p(t) = z_t - lse(z), entropy = -sum_v p_v log p_v (no gradient), and for the backward, given
 * g = dLoss/d log p(t) per row, dz = g (onehot(t) - softmax(z)) / temperature, dL/dh = dz W, dL/dW = dz^T h.
 *
 * <p>Each loop iteration starts only after the previous one finished (its counter waits on the iteration's results),
 * so the loop never holds more than one chunk's logits even though TensorFlow may run loop iterations in parallel.
 */
final class ChunkedHead {
  /** Bytes one chunk's [rows, V] float32 logits may take when the rows per chunk are not given (128 MiB). */
  static final long DEFAULT_CHUNK_BYTES = 128L << 20;

  private final Graph graph;
  private final Ops tf;
  private final Operand<TFloat32> h;
  private final Operand<TFloat32> w;
  private final Operand<TInt32> targets;
  private final Operand<TFloat32> invTemperature;
  private final Operand<TInt32> rows;
  private final int vocab;
  private final int hidden;
  private final int rowsPerChunk;
  private final Operand<TFloat32> tokenLogprobs;
  private final Operand<TFloat32> entropy;
  private final Operand<TFloat32> logsumexp;

  /** Rows per chunk so that one chunk's [rows, vocab] float32 tensor stays within {@code bytes} (at least 1). */
  static int rowsWithin(long bytes, int vocab) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / (4L * vocab)));
  }

  /**
   * @param h              final hidden states [N, D]
   * @param w              head weight [V, D] (logits = h W^T)
   * @param targets        target ids [N], every one a valid id (padding rows too: the loss masks them)
   * @param invTemperature scalar 1 / temperature, scaling the logits before the softmax
   * @param rowsPerChunk   rows of h per chunk (the last chunk takes what is left)
   */
  ChunkedHead(Graph graph, Ops tf, Operand<TFloat32> h, Operand<TFloat32> w, Operand<TInt32> targets,
      Operand<TFloat32> invTemperature, int vocab, int hidden, int rowsPerChunk) {
    if (rowsPerChunk < 1) {
      throw new IllegalArgumentException("rows per chunk must be at least 1, got " + rowsPerChunk);
    }
    this.graph = graph;
    this.tf = tf;
    this.h = h;
    this.w = w;
    this.targets = targets;
    this.invTemperature = invTemperature;
    this.rows = tf.size(targets);
    this.vocab = vocab;
    this.hidden = hidden;
    this.rowsPerChunk = rowsPerChunk;

    Operand<TFloat32> zeros = tf.fill(tf.reshape(rows, tf.constant(new int[] {1})), tf.constant(0f));
    // loop variables: 0 counter, 1 rows, 2 h, 3 w, 4 targets, 5 1/T, 6 log p(t), 7 entropy, 8 logsumexp
    Output<?>[] init = outputs(tf.constant(0), rows, h, w, targets, invTemperature, zeros, zeros, zeros);
    Output<?>[] out = graph.whileLoop(init, this::moreChunks, (g, in, o) -> {
      Ops b = Ops.create(g);
      Chunk c = new Chunk(b, in);
      Operand<TFloat32> z = c.logits(b); // [V, rows]
      Operand<TFloat32> max = b.max(z, b.constant(0), Max.keepDims(true)); // [1, rows]
      Operand<TFloat32> shifted = b.math.sub(z, max);
      Operand<TFloat32> e = b.math.exp(shifted);
      Operand<TFloat32> sumE = b.reduceSum(e, b.constant(0), ReduceSum.keepDims(true)); // [1, rows]
      Operand<TFloat32> logSumE = b.math.log(sumE);
      Operand<TFloat32> lse = flat(b, b.math.add(max, logSumE));
      Operand<TFloat32> lp = b.math.sub(c.atTargets(b, shifted), flat(b, logSumE)); // log_softmax at the target
      // -sum p log p with p = e / sumE, log p = shifted - logSumE: logSumE - sum(e * shifted) / sumE
      Operand<TFloat32> ent = flat(b, b.math.sub(logSumE,
          b.math.div(b.reduceSum(b.math.mul(e, shifted), b.constant(0), ReduceSum.keepDims(true)), sumE)));
      List<Op> done = new ArrayList<>();
      o[6] = add(done, b, in[6], c.placeRows(b, lp, 1));
      o[7] = add(done, b, in[7], c.placeRows(b, ent, 1));
      o[8] = add(done, b, in[8], c.placeRows(b, lse, 1));
      c.next(b, done, o, 6);
    }, "logprob_head");
    tokenLogprobs = cast(out[6]);
    entropy = tf.stopGradient(cast(out[7]));
    logsumexp = cast(out[8]);
  }

  /** log p(target) [N]. */
  Operand<TFloat32> tokenLogprobs() {
    return tokenLogprobs;
  }

  /** Entropy of each row's next-token distribution [N]; a metric: it carries no gradient. */
  Operand<TFloat32> entropy() {
    return entropy;
  }

  /** The head's hand-written backward: gradients of the loss for h and W (either null when not asked for). */
  record Backward(Operand<TFloat32> dh, Operand<TFloat32> dw) {}

  /**
   * @param g      dLoss / d log p(target) [N]
   * @param withH  compute dL/dh [N, D] (for the body's gradients)
   * @param withW  compute dL/dW [V, D] (when the head weight is trained)
   * @param name   unique name of the loop (one per loss)
   */
  Backward backward(Operand<TFloat32> g, boolean withH, boolean withW, String name) {
    if (!withH && !withW) {
      return new Backward(null, null);
    }
    // loop variables: 0 counter, 1 rows, 2 h, 3 w, 4 targets, 5 1/T, 6 logsumexp, 7 g, then dh and/or dW
    List<Operand<?>> init = new ArrayList<>(List.of(tf.constant(0), rows, h, w, targets, invTemperature, logsumexp, g));
    int dhAt = -1;
    int dwAt = -1;
    if (withH) {
      dhAt = init.size();
      init.add(tf.fill(tf.stack(List.of(rows, tf.constant(hidden))), tf.constant(0f)));
    }
    if (withW) {
      dwAt = init.size();
      init.add(tf.fill(tf.constant(new int[] {vocab, hidden}), tf.constant(0f)));
    }
    int dhIndex = dhAt;
    int dwIndex = dwAt;
    Output<?>[] out = graph.whileLoop(outputs(init.toArray(Operand<?>[]::new)), this::moreChunks, (gr, in, o) -> {
      Ops b = Ops.create(gr);
      Chunk c = new Chunk(b, in);
      Operand<TFloat32> lse = c.rowsOf(b, cast(in[6]));
      Operand<TFloat32> scaledG = b.math.mul(c.rowsOf(b, cast(in[7])), cast(in[5])); // g / T
      Operand<TFloat32> p = b.math.exp(b.math.sub(c.logits(b), b.expandDims(lse, b.constant(0)))); // softmax [V, rows]
      // dz = g/T * (onehot(t) - p): -p * g/T everywhere, then + g/T at each row's target
      Operand<TFloat32> dz = b.math.mul(p, b.expandDims(b.math.neg(scaledG), b.constant(0)));
      dz = b.tensorScatterNdAdd(dz, c.targetIndices(b), scaledG);
      List<Op> done = new ArrayList<>();
      if (dhIndex >= 0) {
        Operand<TFloat32> dhChunk = b.linalg.matMul(dz, cast(in[3]), MatMul.transposeA(true)); // dz^T W [rows, D]
        o[dhIndex] = add(done, b, in[dhIndex], c.placeRows(b, dhChunk, 2));
      }
      if (dwIndex >= 0) {
        Operand<TFloat32> dwChunk = b.linalg.matMul(dz, c.hRows); // dz h [V, D]
        o[dwIndex] = add(done, b, in[dwIndex], dwChunk);
      }
      c.next(b, done, o, 8);
    }, name);
    return new Backward(withH ? cast(out[dhIndex]) : null, withW ? cast(out[dwIndex]) : null);
  }

  /** Loop condition: counter * rowsPerChunk < rows. */
  private void moreChunks(Graph g, Output<?>[] in, Output<?>[] out) {
    Ops b = Ops.create(g);
    out[0] = b.math.less(b.math.mul(ints(in[0]), b.constant(rowsPerChunk)), ints(in[1])).asOutput();
  }

  /** One iteration's rows [start, start + size) of the loop variables 0-5 (counter, rows, h, w, targets, 1/T). */
  private final class Chunk {
    final Output<?>[] in;
    final Operand<TInt32> start;
    final Operand<TInt32> size;
    final Operand<TFloat32> hRows;
    final Operand<TInt32> targetRows;

    Chunk(Ops b, Output<?>[] in) {
      this.in = in;
      Operand<TInt32> rowCount = ints(in[1]);
      start = b.math.mul(ints(in[0]), b.constant(rowsPerChunk));
      size = b.math.minimum(b.constant(rowsPerChunk), b.math.sub(rowCount, start));
      hRows = b.slice(cast(in[2]), b.stack(List.of(start, b.constant(0))), b.stack(List.of(size, b.constant(-1))));
      targetRows = rowsOfInts(b, ints(in[4]));
    }

    /**
     * W (h rows / T)^T [V, size]: the tempered logits of the chunk, vocabulary-major (with TensorFlow's CPU matmul
     * this shape took 1.5-2.4x less CPU time than [size, V] = h W^T at 220-1024 rows, about the same at 110, with
     * Qwen2.5's V and D).
     */
    Operand<TFloat32> logits(Ops b) {
      return b.linalg.matMul(cast(in[3]), b.math.mul(hRows, cast(in[5])), MatMul.transposeB(true));
    }

    Operand<TFloat32> rowsOf(Ops b, Operand<TFloat32> v) {
      return b.slice(v, b.reshape(start, b.constant(new int[] {1})), b.reshape(size, b.constant(new int[] {1})));
    }

    Operand<TInt32> rowsOfInts(Ops b, Operand<TInt32> v) {
      return b.slice(v, b.reshape(start, b.constant(new int[] {1})), b.reshape(size, b.constant(new int[] {1})));
    }

    /** [size, 2] (target id, row within the chunk): each row's target in a [V, size] tensor. */
    Operand<TInt32> targetIndices(Ops b) {
      Operand<TInt32> r = b.range(b.constant(0), size, b.constant(1));
      return b.stack(List.of(targetRows, r), org.tensorflow.op.core.Stack.axis(1L));
    }

    /** x[target_r, r] for each row r of the chunk, x [V, size]. */
    Operand<TFloat32> atTargets(Ops b, Operand<TFloat32> x) {
      Operand<TInt32> r = b.range(b.constant(0), size, b.constant(1));
      Operand<TInt32> flatIndex = b.math.add(b.math.mul(targetRows, size), r);
      return b.gather(b.reshape(x, b.constant(new int[] {-1})), flatIndex, b.constant(0));
    }

    /** The chunk's rows [size, ...] placed at [start, start + size) of a zero [N, ...] tensor. */
    Operand<TFloat32> placeRows(Ops b, Operand<TFloat32> x, int rank) {
      Operand<TInt32> after = b.math.sub(b.math.sub(ints(in[1]), start), size);
      Operand<TInt32> rowPad = b.reshape(b.stack(List.of(start, after)), b.constant(new int[] {1, 2}));
      Operand<TInt32> paddings = rank == 1 ? rowPad
          : b.concat(List.of(rowPad, b.constant(new int[rank - 1][2])), b.constant(0)); // no padding on other axes
      return b.pad(x, paddings, b.constant(0f));
    }

    /**
     * Passes loop variables 1 .. {@code invariants - 1} through unchanged and advances the counter once {@code done}
     * ran: the next chunk starts only after this one's results exist.
     */
    void next(Ops b, List<Op> done, Output<?>[] o, int invariants) {
      o[0] = b.withControlDependencies(done).identity(b.math.add(ints(in[0]), b.constant(1))).asOutput();
      for (int i = 1; i < invariants; i++) {
        o[i] = in[i];
      }
    }
  }

  private static Output<?> add(List<Op> done, Ops b, Output<?> acc, Operand<TFloat32> x) {
    Operand<TFloat32> sum = b.math.add(cast(acc), x);
    done.add(sum);
    return sum.asOutput();
  }

  private static Operand<TFloat32> flat(Ops b, Operand<TFloat32> x) {
    return b.reshape(x, b.constant(new int[] {-1}));
  }

  private static Output<?>[] outputs(Operand<?>... ops) {
    Output<?>[] out = new Output<?>[ops.length];
    for (int i = 0; i < ops.length; i++) {
      out[i] = ops[i].asOutput();
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> cast(Output<?> o) {
    return (Output<TFloat32>) o;
  }

  @SuppressWarnings("unchecked")
  private static Operand<TInt32> ints(Output<?> o) {
    return (Output<TInt32>) o;
  }
}
