// What scores a completion against its prompt's reference response. RLSR's is the embedding cosine
// (EmbeddingReward); the trainer takes any implementation.
package dev.rlsr.rl;

import java.util.List;

@FunctionalInterface
public interface RewardFunction {
  /** One reward per (completion, reference) pair, in order. */
  float[] score(List<String> completions, List<String> references);
}
