// Turns pooled window vectors into one vector per text: the windows' average weighted by token count, then L2
// normalisation when the encoder normalises.
package dev.rlsr.embedder;

import java.util.List;

/** Combines the pooled vectors of a text's windows (a text with one window keeps its vector as it is). */
final class WindowAverage {
  private WindowAverage() {}

  /**
   * One vector per text from the windows' pooled vectors ({@code pooled[k]} belongs to {@code windows.get(k)}). A
   * text's weighted sum is accumulated in the order of {@code windows}.
   */
  static float[][] combine(List<Window> windows, float[][] pooled, int texts, int dimension, boolean normalize) {
    float[][] sum = new float[texts][];
    int[] weights = new int[texts];
    int[] windowCount = new int[texts];
    for (Window w : windows) {
      windowCount[w.text()]++;
    }
    for (int k = 0; k < windows.size(); k++) {
      Window w = windows.get(k);
      float[] vector = pooled[k];
      if (windowCount[w.text()] == 1) {
        sum[w.text()] = vector;
        continue;
      }
      if (sum[w.text()] == null) {
        sum[w.text()] = new float[dimension];
      }
      float[] acc = sum[w.text()];
      for (int j = 0; j < dimension; j++) {
        acc[j] += vector[j] * w.weight();
      }
      weights[w.text()] += w.weight();
    }
    for (int t = 0; t < texts; t++) {
      if (windowCount[t] > 1) {
        for (int j = 0; j < dimension; j++) {
          sum[t][j] /= weights[t];
        }
      }
      if (normalize) {
        l2Normalize(sum[t]);
      }
    }
    return sum;
  }

  /** Scales {@code v} to unit length in place (a zero vector stays zero). */
  static void l2Normalize(float[] v) {
    float sumSquares = 0;
    for (float x : v) {
      sumSquares += x * x;
    }
    float norm = (float) Math.sqrt(sumSquares);
    if (norm > 0) {
      for (int j = 0; j < v.length; j++) {
        v[j] /= norm;
      }
    }
  }
}
