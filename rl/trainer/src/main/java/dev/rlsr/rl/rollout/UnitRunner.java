// Computes one rollout unit on a rollout engine and a reward: the code the local stage runs in the trainer's process
// and a Spark task runs on an executor, so the two cannot differ.
package dev.rlsr.rl.rollout;

import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.rl.RewardFunction;
import java.util.ArrayList;
import java.util.List;

public final class UnitRunner {
  private UnitRunner() {}

  /**
   * Samples the unit's rows in one engine call, each row with its own seed ({@link RowSeeds}), decodes them and
   * scores them against their references.
   *
   * @param base sampling options of the run; each row takes them with its own seed
   */
  public static ScoredUnit run(RolloutEngine engine, Tokenizer tok, RewardFunction reward, SamplingOptions base,
      long runSeed, int iteration, RolloutUnit u) {
    long t = System.nanoTime();
    List<SamplingOptions> perRow = new ArrayList<>(u.rows());
    for (int r = 0; r < u.rows(); r++) {
      perRow.add(base.withSeed(RowSeeds.of(runSeed, iteration, u.slots()[r], u.completions()[r])));
    }
    List<Rollout> rollouts = engine.sample(u.prompts(), perRow);
    double sRollout = (System.nanoTime() - t) / 1e9;
    t = System.nanoTime();
    List<String> texts = new ArrayList<>(rollouts.size());
    for (Rollout r : rollouts) {
      texts.add(tok.decode(r.tokens()));
    }
    float[] rewards = reward.score(texts, u.references());
    return new ScoredUnit(u.index(), rollouts, texts, rewards, sRollout, (System.nanoTime() - t) / 1e9);
  }
}
