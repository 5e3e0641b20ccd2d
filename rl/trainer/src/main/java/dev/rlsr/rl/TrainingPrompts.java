// The prepare phase of an RLSR run: the rows that can be trained on (a reference to reward against, a non-empty
// prompt) with their prompt token ids, checked against the run's options and the model's positions.
package dev.rlsr.rl;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.util.RlsrException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * @param ids    prompt token ids of each usable row (cut to their last --max-prompt-length tokens)
 * @param usable the usable rows, in dataset order ({@code ids.get(i)} is the prompt of {@code usable.get(i)})
 */
record TrainingPrompts(List<int[]> ids, List<Example> usable) {
  int size() {
    return usable.size();
  }

  /** Encodes the prompts of {@code examples} with the model's template; refuses data the run cannot use. */
  static TrainingPrompts prepare(GrpoConfig cfg, HfModel base, List<Example> examples, PrintWriter log) {
    var tok = base.tokenizer();
    SftTokenizer prompts = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), Integer.MAX_VALUE);
    List<int[]> promptIds = new ArrayList<>();
    List<Example> usable = new ArrayList<>();
    for (Example e : examples) {
      if (e.response().isBlank()) {
        continue; // no reference, no reward
      }
      int[] p = prompts.encodePrompt(e, cfg.maxPromptLength());
      if (p.length == 0) {
        continue;
      }
      promptIds.add(p);
      usable.add(e);
    }
    if (usable.isEmpty()) {
      throw new RlsrException(cfg.data() + ": no usable rows (every row has an empty reference response or an empty prompt)");
    }
    if (usable.size() < cfg.promptsPerIteration()) {
      throw new RlsrException(cfg.data() + " has " + usable.size() + " usable prompts, fewer than --prompts-per-iteration "
          + cfg.promptsPerIteration() + ": lower --prompts-per-iteration or add data");
    }
    int longest = promptIds.stream().mapToInt(p -> p.length).max().orElse(0);
    PositionLimits.checkPromptPlusNew(base.config(), cfg.model(), longest, cfg.maxPromptLength(),
        "--max-prompt-length", cfg.maxCompletionLength(), "--max-completion-length");
    log.println("data: " + usable.size() + " usable of " + examples.size() + " rows; prompts cut to their last "
        + cfg.maxPromptLength() + " tokens: " + prompts.stats().promptsTruncated());
    return new TrainingPrompts(promptIds, usable);
  }
}
