// What a rollout unit gives back: each row's rollout (tokens, sampler and policy log-probs), decoded text and reward,
// and the seconds its two halves took where it ran.
package dev.rlsr.rl.rollout;

import dev.rlsr.policy.rollout.Rollout;
import java.io.Serializable;
import java.util.List;

/**
 * @param index          the unit's {@link RolloutUnit#index}
 * @param rollouts       per row, in the unit's row order
 * @param texts          per row: the decoded completion the reward scored
 * @param rewards        per row: the reward
 * @param rolloutSeconds wall seconds of the unit's sampling (where it ran)
 * @param rewardSeconds  wall seconds of decoding and scoring it
 */
public record ScoredUnit(int index, List<Rollout> rollouts, List<String> texts, float[] rewards,
    double rolloutSeconds, double rewardSeconds) implements Serializable {
  public ScoredUnit {
    rollouts = List.copyOf(rollouts);
    texts = List.copyOf(texts);
  }
}
