// Rollouts on the TensorFlow policy graph (no KV cache: the whole sequence is recomputed each step), with the
// same inputs, outputs and token rule as the ONNX Runtime sampler, so both backends can be compared token for token.
package dev.rlsr.policy.rollout;

import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import java.util.List;

/**
 * Generation through {@link PolicyGraph#logits}: greedy decoding gives the tokens {@code OrtSampler} gives on the
 * same weights (up to float ties), and seeded sampling draws the same random numbers in the same order. The graph's
 * scoring temperature ({@link PolicyGraph#setTemperature}) is not used: {@link SamplingOptions#temperature} is.
 *
 * <p>As a {@link RolloutEngine}: {@link #sync} loads the weights into the graph ({@link PolicyGraph#setWeights});
 * {@link #close} closes the graph when this generator created it ({@link #open}), not a graph it was given.
 */
public final class TfGenerator extends RecomputeGenerator {
  private final PolicyGraph graph;
  private final boolean ownsGraph;

  /** A generator over a graph the caller owns (and closes). */
  public TfGenerator(PolicyGraph graph) {
    this(graph, false);
  }

  private TfGenerator(PolicyGraph graph, boolean ownsGraph) {
    super(graph.config(), (ids, attention, positions) -> lastPositions(graph, ids, attention, positions));
    this.graph = graph;
    this.ownsGraph = ownsGraph;
  }

  /** A generator over its own inference graph of {@code weights} ({@code threads} intra-op threads), closed with it. */
  public static TfGenerator open(ModelWeights weights, int threads) {
    return open(weights.config(), weights, threads);
  }

  /** A generator over its own inference graph of {@code config}, loaded from {@code weights} tensor by tensor. */
  public static TfGenerator open(ModelConfig config, TensorSource weights, int threads) {
    return new TfGenerator(PolicyGraph.create(config, weights, PolicyGraph.Options.inference(threads), List.of()), true);
  }

  @Override
  public void sync(TensorSource weights) {
    graph.setWeights(weights);
  }

  @Override
  public void close() {
    if (ownsGraph) {
      graph.close();
    }
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
