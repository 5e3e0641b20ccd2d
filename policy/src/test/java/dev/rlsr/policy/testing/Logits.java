// Parity-test helpers over logits [B][T][V]: the TensorFlow graph's logits in that shape, and masked max |a - b|.
package dev.rlsr.policy.testing;

import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelWeights;
import java.util.List;

public final class Logits {
  private Logits() {}

  /** The TensorFlow inference graph's logits of rows [B][T], as [B][T][V]. */
  public static float[][][] tf(ModelWeights w, int[][] ids, int[][] mask, int[][] pos) {
    try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
      float[] flat = g.logits(ids, mask, pos);
      int v = w.config().vocabSize();
      float[][][] out = new float[ids.length][ids[0].length][v];
      for (int b = 0; b < ids.length; b++) {
        for (int t = 0; t < ids[0].length; t++) {
          System.arraycopy(flat, (b * ids[0].length + t) * v, out[b][t], 0, v);
        }
      }
      return out;
    }
  }

  /** Largest |a - b| over positions where mask == 1. */
  public static double maxAbsDiff(float[][][] a, float[][][] b, int[][] mask) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      for (int t = 0; t < a[i].length; t++) {
        if (mask[i][t] == 0) {
          continue;
        }
        for (int v = 0; v < a[i][t].length; v++) {
          max = Math.max(max, Math.abs(a[i][t][v] - b[i][t][v]));
        }
      }
    }
    return max;
  }

  /** Largest |a| over positions where mask == 1 (the scale of a parity figure). */
  public static double maxAbs(float[][][] a, int[][] mask) {
    return maxAbsDiff(a, new float[a.length][a[0].length][a[0][0].length], mask);
  }
}
