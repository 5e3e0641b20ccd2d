// `--rollout-engine local`: the units computed one after another in the trainer's process, on its ONNX Runtime
// rollout engine and its reward.
package dev.rlsr.rl.rollout;

import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.rl.RewardFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

public final class LocalRolloutStage implements RolloutStage {
  private final RolloutEngine engine;
  private final Tokenizer tok;
  private final RewardFunction reward;
  private final SamplingOptions sampling;
  private final long seed;

  /** Over an open engine, which this stage owns from now on; the tokenizer and reward stay the caller's. */
  public LocalRolloutStage(RolloutEngine engine, Tokenizer tok, RewardFunction reward, SamplingOptions sampling,
      long seed) {
    this.engine = engine;
    this.tok = tok;
    this.reward = reward;
    this.sampling = sampling;
    this.seed = seed;
  }

  @Override
  public Result run(int iteration, List<RolloutUnit> units) {
    List<ScoredUnit> out = new ArrayList<>(units.size());
    for (RolloutUnit u : units) {
      out.add(UnitRunner.run(engine, tok, reward, sampling, seed, iteration, u));
    }
    return new Result(out, Map.of());
  }

  @Override
  public void sync(TensorSource weights) {
    engine.sync(weights);
  }

  @Override
  public void release() {
    engine.release();
  }

  @Override
  public void close() {
    engine.close();
  }
}
