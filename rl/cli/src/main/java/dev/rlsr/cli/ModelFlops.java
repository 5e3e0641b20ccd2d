// Model FLOPs of a decoder for MFU: the matmul FLOPs of every projection, the LM head and attention, per token,
// as PaLM (appendix B) counts them: forward 2 FLOPs per weight per token, training 3x forward.
package dev.rlsr.cli;

import dev.rlsr.policy.model.ModelConfig;

final class ModelFlops {
  private ModelFlops() {}

  /**
   * Weights that take part in a matmul per token: q, k, v, o, gate, up, down in every layer plus the LM head
   * (the embedding lookup is a gather, no FLOPs; a tied head counts once, as the head). Norms and biases are left out.
   */
  static long matmulParams(ModelConfig c) {
    long d = c.hiddenSize();
    long q = (long) c.numHeads() * c.headDim();
    long kv = (long) c.numKvHeads() * c.headDim();
    long perLayer = d * q + 2 * d * kv + q * d + 3 * d * c.intermediateSize();
    return perLayer * c.numLayers() + d * c.vocabSize();
  }

  /**
   * Forward FLOPs of one token that attends over {@code context} positions: 2 per matmul weight plus the scores
   * (q·k) and the weighted sum (p·v), 2 * 2 * heads * head_dim * context per layer.
   */
  static double forwardPerToken(ModelConfig c, double context) {
    double attention = 4.0 * c.numLayers() * c.numHeads() * c.headDim() * context;
    return 2.0 * matmulParams(c) + attention;
  }

  /**
   * Forward FLOPs of a [rows, seq] batch as rlsr's TensorFlow graph computes it: every position attends over the
   * whole row (the causal mask is applied to a full [seq, seq] score matrix).
   */
  static double forward(ModelConfig c, long rows, long seq) {
    return rows * seq * forwardPerToken(c, seq);
  }

  /** Forward plus backward (2x forward): 3x forward. */
  static double training(ModelConfig c, long rows, long seq) {
    return 3 * forward(c, rows, seq);
  }
}
