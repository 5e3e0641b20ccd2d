// One metrics.jsonl row of an RLSR iteration: rewards, KL, clipping, entropy, lengths, optimizer values, the
// sampler gap, and the seconds of each phase.
package dev.rlsr.rl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.util.Json;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

final class IterationMetrics {
  private IterationMetrics() {}

  /** The outcome of one iteration's update passes (the last pass's values). */
  record Update(Map<String, Double> sums, double loss, double gradNorm, double lr) {}

  /** Wall seconds of the phases of one iteration ({@code iteration}: the whole of it). */
  record Seconds(double rollout, double reward, double logprobs, double update, double sync, double iteration) {}

  /**
   * The row (in this key order). KL, clipping and entropy are means over tokens of the loss sums in {@code u.sums()}.
   *
   * @param numGenerations G, the group size of {@code rewards}
   */
  static ObjectNode row(int iteration, float[] rewards, List<Rollout> rollouts, Update u, SamplerGap isw,
      long skipped, int numGenerations, Seconds s) {
    Map<String, Double> sums = u.sums();
    double loss = u.loss();
    double lr = u.lr();
    double gradNorm = u.gradNorm();
    int[] lens = rollouts.stream().mapToInt(r -> r.tokens().length).toArray();
    long generated = Arrays.stream(lens).sum();
    long truncated = rollouts.stream().filter(r -> !r.finishedByEos()).count();
    double tokens = Math.max(1, sums.getOrDefault("mask_sum", 0.0));
    double low = sums.getOrDefault("clip_low_sum", 0.0);
    double high = sums.getOrDefault("clip_high_sum", 0.0);
    double[] r = toDouble(rewards);
    ObjectNode row = Json.MAPPER.createObjectNode();
    row.put("iteration", iteration);
    row.put("reward_mean", mean(rewards));
    row.put("reward_std", Advantages.std(rewards, 0, rewards.length));
    row.put("reward_min", Arrays.stream(r).min().orElse(0));
    row.put("reward_max", Arrays.stream(r).max().orElse(0));
    row.put("frac_reward_zero_std", Advantages.fractionZeroStd(rewards, numGenerations));
    row.put("kl", sums.getOrDefault("kl_sum", 0.0) / tokens);
    row.put("clip_fraction", (low + high) / tokens);
    row.put("clip_low_fraction", low / tokens);
    row.put("clip_high_fraction", high / tokens);
    row.put("loss", loss);
    row.put("entropy", sums.getOrDefault("entropy_sum", 0.0) / tokens);
    row.put("completion_tokens", generated);
    row.put("completion_length_mean", (double) generated / lens.length);
    row.put("completion_length_min", Arrays.stream(lens).min().orElse(0));
    row.put("completion_length_max", Arrays.stream(lens).max().orElse(0));
    row.put("truncated_fraction", (double) truncated / lens.length);
    row.put("learning_rate", lr);
    row.put("grad_norm", gradNorm);
    row.put("logprob_gap_mean", isw.gapMean());
    row.put("logprob_gap_max", isw.gapMax());
    row.put("is_weight_mean", isw.weightMean());
    row.put("skipped_steps", skipped);
    row.put("seconds_rollout", s.rollout());
    row.put("seconds_reward", s.reward());
    row.put("seconds_logprobs", s.logprobs());
    row.put("seconds_update", s.update());
    row.put("seconds_sync", s.sync());
    row.put("seconds_iteration", s.iteration());
    row.put("tokens_per_second", row.get("completion_tokens").asDouble() / s.iteration());
    return row;
  }

  static double mean(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v;
    }
    return x.length == 0 ? 0 : s / x.length;
  }

  private static double[] toDouble(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }
}
