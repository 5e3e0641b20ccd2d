// Rollouts on the TensorFlow policy graph (no KV cache: the whole sequence is recomputed each step), with the
// same inputs, outputs and token rule as the ONNX Runtime sampler, so both backends can be compared token for token.
package dev.rlsr.policy.rollout;

import dev.rlsr.policy.graph.PolicyGraph;

/**
 * Generation through {@link PolicyGraph#logits}: greedy decoding gives the tokens {@link OrtSampler} gives on the
 * same weights (up to float ties), and seeded sampling draws the same random numbers in the same order. The graph's
 * scoring temperature ({@link PolicyGraph#setTemperature}) is not used: {@link SamplingOptions#temperature} is.
 */
public final class TfGenerator extends RecomputeGenerator {
  public TfGenerator(PolicyGraph graph) {
    super(graph.config(), (ids, attention, positions) -> lastPositions(graph, ids, attention, positions));
  }

  /** Logits [B*T*V] of the graph reduced to the last position of each row, [B*V]. */
  private static float[] lastPositions(PolicyGraph graph, int[][] ids, int[][] attention, int[][] positions) {
    int batch = ids.length;
    int len = ids[0].length;
    int vocab = graph.config().vocabSize();
    float[] all = graph.logits(ids, attention, positions);
    float[] last = new float[batch * vocab];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(all, ((b * len) + len - 1) * vocab, last, b * vocab, vocab);
    }
    return last;
  }
}
