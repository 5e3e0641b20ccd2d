// Lengths against the model's max_position_embeddings: a prompt plus its new tokens must fit, checked up front
// (before anything is written) so a run never goes past the positions the model was trained for.
package dev.rlsr.rl;

import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import java.util.List;

public final class PositionLimits {
  private PositionLimits() {}

  /**
   * The longest prompt, in tokens, after keeping its last {@code maxPromptLength} tokens (rows with a blank prompt
   * count 0), rendered as training and generation render it.
   */
  public static int longestPrompt(Tokenizer tok, List<Example> examples, int maxPromptLength) {
    SftTokenizer st = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), Integer.MAX_VALUE);
    int longest = 0;
    for (Example e : examples) {
      longest = Math.max(longest, st.encodePrompt(e, maxPromptLength).length);
    }
    return longest;
  }

  /**
   * Refuses when the new tokens alone, or the longest prompt plus the new tokens, exceed the model's
   * max_position_embeddings; the message names the flags, the limit and what fits.
   *
   * @param model         the model directory (named in the message)
   * @param longestPrompt from {@link #longestPrompt}
   * @param promptFlag    e.g. "--max-prompt-length"
   * @param newFlag       e.g. "--max-new-tokens" or "--max-completion-length"
   */
  public static void checkPromptPlusNew(ModelConfig c, Path model, int longestPrompt, int maxPromptLength,
      String promptFlag, int newTokens, String newFlag) {
    int limit = c.maxPositions();
    String where = "the model's max_position_embeddings " + limit + " (" + model.resolve("config.json") + ")";
    if (newTokens >= limit) {
      throw new RlsrException(newFlag + " " + newTokens + " exceeds " + where + ": prompt and new tokens share those "
          + limit + " positions; use " + newFlag + " " + Math.max(1, limit - Math.max(1, longestPrompt)) + " or less");
    }
    if ((long) longestPrompt + newTokens > limit) {
      throw new RlsrException(promptFlag + " " + maxPromptLength + " and " + newFlag + " " + newTokens + " exceed "
          + where + ": the longest prompt keeps " + longestPrompt + " tokens, and " + longestPrompt + " + " + newTokens
          + " > " + limit + "; use " + newFlag + " " + (limit - longestPrompt) + " or less, or " + promptFlag + " "
          + (limit - newTokens) + " or less");
    }
  }

  /** Refuses a sequence length flag above the model's max_position_embeddings. */
  public static void checkSeqLen(ModelConfig c, Path model, int seqLen, String flag) {
    if (seqLen > c.maxPositions()) {
      throw new RlsrException(flag + " " + seqLen + " exceeds the model's max_position_embeddings " + c.maxPositions()
          + " (" + model.resolve("config.json") + "): use " + flag + " " + c.maxPositions() + " or less");
    }
  }
}
