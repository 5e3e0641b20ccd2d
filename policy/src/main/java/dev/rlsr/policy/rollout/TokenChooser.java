// The per-row next-token rule of every rlsr generator (ONNX Runtime and TensorFlow): greedy, temperature,
// top-k, top-p, with the sampling and policy log-probabilities GRPO needs.
package dev.rlsr.policy.rollout;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Stateless; the caller owns the random stream, so generators that draw in the same order pick the same tokens. */
public final class TokenChooser {
  private TokenChooser() {}

  /**
   * Picks the next token from one row of logits. {@code lp[0]} = sampling log-prob (see {@link Rollout}),
   * {@code lp[1]} = log_softmax(logits / temperature)[token].
   *
   * <p>Sampling: weights w = exp((logits - max) / T); with top-k the k largest are kept; with top-p the smallest
   * most-likely prefix (descending logits, lowest id first on ties) whose weight reaches top_p of the total is kept;
   * the token is drawn in proportion to the kept weights. Without top-k and top-p nothing is sorted.
   */
  public static int choose(float[] logits, SamplingOptions o, SplittableRandom rng, double[] lp) {
    int vocab = logits.length;
    double invT = 1.0 / o.temperature();
    double max = Double.NEGATIVE_INFINITY;
    int argmax = 0;
    for (int v = 0; v < vocab; v++) {
      if (logits[v] > max) {
        max = logits[v];
        argmax = v;
      }
    }
    double[] wAll = new double[vocab];            // unnormalised probabilities exp((l - max) / T), each in (0, 1]
    double zAll = 0;
    for (int v = 0; v < vocab; v++) {
      wAll[v] = Math.exp((logits[v] - max) * invT);
      zAll += wAll[v];
    }
    double logZAll = Math.log(zAll);
    if (o.greedy()) {
      lp[0] = 0;
      lp[1] = -logZAll;                          // (logits[argmax] - max) / T = 0
      return argmax;
    }

    // Candidates, in descending logit order when a filter needs an order.
    int[] order;
    if (o.topK() > 0 && o.topK() < vocab) {
      order = topOrder(logits, null, o.topK());
    } else if (o.topP() < 1) {
      order = nucleusSuperset(logits, wAll, zAll * o.topP());
    } else {
      order = null;                               // plain sampling over the vocabulary in id order
    }
    int kept = order == null ? vocab : order.length;
    double z = 0;
    for (int i = 0; i < kept; i++) {
      z += wAll[order == null ? i : order[i]];
    }
    if (o.topP() < 1 && order != null) {          // smallest prefix whose weight reaches top_p of the total
      double cum = 0;
      int n = 0;
      while (n < kept) {
        cum += wAll[order[n++]];
        if (cum >= o.topP() * z) {
          break;
        }
      }
      kept = n;
      z = cum;
    }
    double u = rng.nextDouble() * z;
    int token = order == null ? vocab - 1 : order[kept - 1];   // rounding fallback: the last kept candidate
    double acc = 0;
    for (int i = 0; i < kept; i++) {
      int id = order == null ? i : order[i];
      acc += wAll[id];
      if (u < acc) {
        token = id;
        break;
      }
    }
    lp[0] = Math.log(wAll[token] / z);
    lp[1] = (logits[token] - max) * invT - logZAll;
    return token;
  }

  /**
   * The most likely tokens, sorted, as far as needed to hold the top-p nucleus: the tokens with weight >= a
   * threshold form a prefix of the descending order, so once their total reaches {@code need} the nucleus lies
   * inside them. The threshold starts at 1e-3 of the largest weight and falls until that holds (0: everything).
   * For a peaked LM distribution this sorts a few tokens instead of the whole vocabulary.
   */
  static int[] nucleusSuperset(float[] logits, double[] w, double need) {
    for (double threshold = 1e-3; ; threshold = threshold > 1e-30 ? threshold * 1e-4 : 0) {
      int n = 0;
      double mass = 0;
      for (double x : w) {
        if (x >= threshold) {
          n++;
          mass += x;
        }
      }
      if (mass >= need || threshold == 0) {
        int[] ids = new int[n];
        int i = 0;
        for (int v = 0; v < w.length; v++) {
          if (w[v] >= threshold) {
            ids[i++] = v;
          }
        }
        return topOrder(logits, ids, n);
      }
    }
  }

  /**
   * The k ids with the largest logits among {@code ids} (null: the whole vocabulary), in descending logit order,
   * lowest id first among equal values.
   */
  static int[] topOrder(float[] logits, int[] ids, int k) {
    int n = ids == null ? logits.length : ids.length;
    // Sort keys: descending value via the sortable bits of -logit in the high half, the id in the low half.
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      int v = ids == null ? i : ids[i];
      int bits = Float.floatToIntBits(-logits[v] + 0.0f);   // + 0.0f: -0.0 and 0.0 compare equal
      int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
      keys[i] = ((long) sortable << 32) | v;
    }
    if (k < n / 8) {
      // Partial selection: keep the k smallest keys with a bounded max-heap, then sort those.
      long[] heap = new long[k];
      int size = 0;
      for (long key : keys) {
        if (size < k) {
          heap[size] = key;
          siftUp(heap, size++);
        } else if (key < heap[0]) {
          heap[0] = key;
          siftDown(heap, k);
        }
      }
      keys = heap;
    }
    Arrays.sort(keys);
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      out[i] = (int) keys[i];        // low 32 bits: the id
    }
    return out;
  }

  private static void siftUp(long[] h, int i) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (h[parent] >= h[i]) {
        return;
      }
      long t = h[parent];
      h[parent] = h[i];
      h[i] = t;
      i = parent;
    }
  }

  private static void siftDown(long[] h, int size) {
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      int r = l + 1;
      int big = i;
      if (l < size && h[l] > h[big]) {
        big = l;
      }
      if (r < size && h[r] > h[big]) {
        big = r;
      }
      if (big == i) {
        return;
      }
      long t = h[big];
      h[big] = h[i];
      h[i] = t;
      i = big;
    }
  }
}
