// Pads tokenized examples into training batches and walks a dataset in deterministic, resumable shuffled epochs.
package dev.rlsr.policy.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A batch is next-token prediction over right-padded rows: for an example of n ids, row positions
 * {@code t < n-1} hold input {@code ids[t]} and target {@code ids[t+1]}; {@code seq} is the longest {@code n-1} in
 * the batch. All arrays are flat, row-major {@code [batch, seq]}.
 */
public final class Batches {
  private Batches() {}

  /**
   * @param inputIds      input token at each position, padId in padding
   * @param targets       the next token (what position t must predict), padId in padding
   * @param lossMask      1 where the target is a response token or the final EOS, else 0
   * @param attentionMask 1 for real input tokens, 0 for padding
   */
  public record Batch(int batch, int seq, int[] inputIds, int[] targets, int[] lossMask, int[] attentionMask) {
    public int index(int b, int t) {
      return b * seq + t;
    }

    /** Number of positions that contribute to the loss. */
    public int lossTokens() {
      int n = 0;
      for (int m : lossMask) {
        n += m;
      }
      return n;
    }
  }

  /** Pads examples (in the given order) into one batch. */
  public static Batch pad(List<TokenizedExample> examples, int padId) {
    if (examples.isEmpty()) {
      throw new IllegalArgumentException("empty batch");
    }
    int seq = 0;
    for (TokenizedExample e : examples) {
      seq = Math.max(seq, e.length() - 1);
    }
    int b = examples.size();
    int[] in = new int[b * seq];
    int[] tg = new int[b * seq];
    int[] lm = new int[b * seq];
    int[] am = new int[b * seq];
    Arrays.fill(in, padId);
    Arrays.fill(tg, padId);
    for (int r = 0; r < b; r++) {
      TokenizedExample e = examples.get(r);
      int[] ids = e.ids();
      for (int t = 0; t < ids.length - 1; t++) {
        int i = r * seq + t;
        in[i] = ids[t];
        tg[i] = ids[t + 1];
        am[i] = 1;
        lm[i] = t + 1 >= e.promptLength() ? 1 : 0;
      }
    }
    return new Batch(b, seq, in, tg, lm, am);
  }

  /** Where an {@link EpochIterator} stands: the epoch and the index of the next example in its order. */
  public record State(int epoch, int position) {}

  /**
   * Endless iterator over batches: each epoch visits every example once in an order shuffled by
   * {@code SplittableRandom(seed + epoch)}, so an epoch's order depends only on seed and epoch number and a run
   * resumed from {@link #state()} yields exactly the batches an uninterrupted run would have. The last batch of
   * an epoch is smaller when the dataset size is not a multiple of the batch size, unless {@code dropLast}.
   */
  public static final class EpochIterator {
    private final List<TokenizedExample> examples;
    private final int batchSize;
    private final long seed;
    private final int padId;
    private final boolean dropLast;
    private int epoch;
    private int position;
    private int[] order;

    public EpochIterator(List<TokenizedExample> examples, int batchSize, long seed, int padId, boolean dropLast) {
      this(examples, batchSize, seed, padId, dropLast, new State(0, 0));
    }

    /** Resumes at a saved state (same examples, batch size, seed and dropLast as the saving run). */
    public EpochIterator(List<TokenizedExample> examples, int batchSize, long seed, int padId, boolean dropLast,
        State start) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
      }
      if (examples.isEmpty() || (dropLast && examples.size() < batchSize)) {
        throw new IllegalArgumentException("need at least " + (dropLast ? batchSize : 1) + " examples, got "
            + examples.size());
      }
      if (start.epoch() < 0 || start.position() < 0 || start.position() > examples.size()) {
        throw new IllegalArgumentException("state " + start + " is outside a dataset of " + examples.size());
      }
      this.examples = List.copyOf(examples);
      this.batchSize = batchSize;
      this.seed = seed;
      this.padId = padId;
      this.dropLast = dropLast;
      this.epoch = start.epoch();
      this.position = start.position();
      this.order = order(epoch);
    }

    /** The example indices of an epoch, in visiting order. */
    public int[] order(int ep) {
      int n = examples.size();
      int[] o = new int[n];
      for (int i = 0; i < n; i++) {
        o[i] = i;
      }
      SplittableRandom rng = new SplittableRandom(seed + ep);
      for (int i = n - 1; i > 0; i--) { // Fisher-Yates
        int j = rng.nextInt(i + 1);
        int t = o[i];
        o[i] = o[j];
        o[j] = t;
      }
      return o;
    }

    public int batchesPerEpoch() {
      int n = examples.size();
      return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The state before the next batch; pass it to the resuming constructor. */
    public State state() {
      return new State(epoch, position);
    }

    public Batch next() {
      int n = examples.size();
      if (position >= n || (dropLast && position + batchSize > n)) {
        epoch++;
        position = 0;
        order = order(epoch);
      }
      int end = Math.min(n, position + batchSize);
      List<TokenizedExample> rows = new ArrayList<>(end - position);
      for (int i = position; i < end; i++) {
        rows.add(examples.get(order[i]));
      }
      position = end;
      return pad(rows, padId);
    }
  }
}
