// Which prompts each iteration uses: epochs over the dataset, each shuffled from (seed + epoch), resumable from
// (epoch, position), so a resumed run sees exactly the prompts an uninterrupted one would.
package dev.rlsr.rl;

import java.util.SplittableRandom;

public final class PromptOrder {
  public record State(int epoch, int position) {}

  private final int size;
  private final long seed;
  private int epoch;
  private int position;
  private int[] order;

  public PromptOrder(int size, long seed, State start) {
    if (size < 1) {
      throw new IllegalArgumentException("no prompts");
    }
    this.size = size;
    this.seed = seed;
    this.epoch = start.epoch();
    this.position = start.position();
    this.order = shuffle(epoch);
  }

  private int[] shuffle(int ep) {
    int[] o = new int[size];
    for (int i = 0; i < size; i++) {
      o[i] = i;
    }
    SplittableRandom r = new SplittableRandom(seed * 1_000_003L + ep);
    for (int i = size - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = o[i];
      o[i] = o[j];
      o[j] = t;
    }
    return o;
  }

  /** The next n prompt indices (n <= dataset size; an epoch boundary starts a new shuffle). */
  public int[] next(int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      if (position >= size) {
        epoch++;
        position = 0;
        order = shuffle(epoch);
      }
      out[i] = order[position++];
    }
    return out;
  }

  public State state() {
    return new State(epoch, position);
  }
}
