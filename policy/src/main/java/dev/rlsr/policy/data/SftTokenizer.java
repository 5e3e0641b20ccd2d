// Turns examples into token ids for SFT (prompt + response + EOS, loss on the response) and for rollouts (prompt).
package dev.rlsr.policy.data;

import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Token layout: {@code [BOS] + encode(render(prompt)) + encode(response) + [EOS]}. BOS is prepended when the
 * tokenizer says so ({@link Tokenizer#addBosToPrompt()}) and the rendered prompt does not already start with it
 * (chat templates usually write {@code bos_token} themselves). EOS is the tokenizer's first EOS id
 * ({@code eos_token} of tokenizer_config.json when it has one, e.g. {@code <|im_end|>} for Qwen2 chat models).
 *
 * <p><b>Over-long rule</b> (an example longer than {@code maxSeqLen} tokens):
 * <ul>
 *   <li>if the prompt leaves room for at least one response token ({@code prompt < maxSeqLen}), the response is
 *       cut on the right to fit and the EOS is dropped (the model is not taught to stop mid-answer):
 *       counted as <i>truncated</i>;</li>
 *   <li>otherwise the example is <i>dropped</i> (cutting the prompt would train on an answer to a question the
 *       model cannot see).</li>
 * </ul>
 * Examples that fit are counted as <i>kept</i>. The counts accumulate in {@link #stats()}.
 *
 * <p><b>Rollout prompts</b> ({@link #encodePrompt}) longer than the limit keep their <i>last</i> tokens (left
 * truncation): the end of the prompt holds the question and the template's generation cue, which the model needs
 * to start answering. Counted in {@link TruncationStats#promptsTruncated()}.
 */
public final class SftTokenizer {
  private final Tokenizer tokenizer;
  private final PromptRenderer renderer;
  private final int maxSeqLen;
  private final int eosId;
  private final TruncationStats stats = new TruncationStats();

  /**
   * @param maxSeqLen the longest token sequence (prompt + response + EOS) to train on; at least 2
   */
  public SftTokenizer(Tokenizer tokenizer, PromptRenderer renderer, int maxSeqLen) {
    if (maxSeqLen < 2) {
      throw new RlsrException("max sequence length must be at least 2, got " + maxSeqLen);
    }
    int[] eos = tokenizer.eosIds();
    if (eos.length == 0) {
      throw new RlsrException(tokenizer.modelDir() + ": no EOS token (set eos_token in tokenizer_config.json or"
          + " eos_token_id in generation_config.json)");
    }
    this.tokenizer = tokenizer;
    this.renderer = renderer;
    this.maxSeqLen = maxSeqLen;
    this.eosId = eos[0];
  }

  public TruncationStats stats() {
    return stats;
  }

  public int maxSeqLen() {
    return maxSeqLen;
  }

  /** Prompt token ids, BOS included when due, not truncated. */
  public int[] promptIds(Example e) {
    return withBos(tokenizer, tokenizer.encode(renderer.render(e.messages())));
  }

  /** {@code ids} with the tokenizer's BOS first when it adds one to prompts and they do not start with it already. */
  public static int[] withBos(Tokenizer tokenizer, int[] ids) {
    int bos = tokenizer.bosId();
    if (tokenizer.addBosToPrompt() && (ids.length == 0 || ids[0] != bos)) {
      int[] out = new int[ids.length + 1];
      out[0] = bos;
      System.arraycopy(ids, 0, out, 1, ids.length);
      return out;
    }
    return ids;
  }

  /** The example's ids under the over-long rule, or empty when it is dropped. */
  public Optional<TokenizedExample> encode(Example e) {
    int[] prompt = promptIds(e);
    if (prompt.length == 0) {
      throw new RlsrException("prompt \"" + e.promptText() + "\" renders to no tokens");
    }
    int[] response = tokenizer.encode(e.response());
    int full = prompt.length + response.length + 1;
    if (prompt.length >= maxSeqLen) {
      stats.addDropped();
      return Optional.empty();
    }
    int[] ids;
    if (full <= maxSeqLen) {
      ids = Arrays.copyOf(prompt, full);
      System.arraycopy(response, 0, ids, prompt.length, response.length);
      ids[full - 1] = eosId;
      stats.addKept();
    } else {
      ids = Arrays.copyOf(prompt, maxSeqLen);
      System.arraycopy(response, 0, ids, prompt.length, maxSeqLen - prompt.length);
      stats.addTruncated();
    }
    return Optional.of(new TokenizedExample(ids, prompt.length));
  }

  /** Encodes many examples, leaving out dropped ones. */
  public List<TokenizedExample> encodeAll(List<Example> examples) {
    List<TokenizedExample> out = new ArrayList<>(examples.size());
    for (Example e : examples) {
      encode(e).ifPresent(out::add);
    }
    return out;
  }

  /** Rollout prompt ids: the last {@code maxPromptLen} tokens of {@link #promptIds} (left truncation). */
  public int[] encodePrompt(Example e, int maxPromptLen) {
    if (maxPromptLen < 1) {
      throw new RlsrException("max prompt length must be at least 1, got " + maxPromptLen);
    }
    int[] p = promptIds(e);
    if (p.length <= maxPromptLen) {
      return p;
    }
    stats.addPromptTruncated();
    return Arrays.copyOfRange(p, p.length - maxPromptLen, p.length);
  }
}
