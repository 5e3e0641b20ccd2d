// completions.jsonl: a few evenly spaced rollouts of each RLSR iteration with their prompt, reference, reward and
// advantage, to read what the policy writes as it trains.
package dev.rlsr.rl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.train.MetricsLog;
import java.util.List;
import java.util.function.IntFunction;

final class CompletionLog {
  private CompletionLog() {}

  /**
   * Writes up to {@code count} rows (--log-completions), every (rows / count)-th rollout from the first.
   *
   * @param prompt the prompt text of rollout row r
   */
  static void write(MetricsLog out, int count, int iteration, IntFunction<String> prompt, List<String> completions,
      List<String> references, float[] rewards, float[] advantages) {
    int stride = Math.max(1, completions.size() / Math.max(1, count));
    for (int r = 0, n = 0; r < completions.size() && n < count; r += stride, n++) {
      ObjectNode c = Json.MAPPER.createObjectNode();
      c.put("iteration", iteration);
      c.put("prompt", prompt.apply(r));
      c.put("completion", completions.get(r));
      c.put("reference", references.get(r));
      c.put("reward", rewards[r]);
      c.put("advantage", advantages[r]);
      out.write(c);
    }
  }
}
