// Options of rollout sampling (what each does, its default) with validation that names the offending flag.
package dev.rlsr.policy.rollout;

import dev.rlsr.policy.util.RlsrException;
import java.util.List;

/**
 * @param maxNewTokens  {@code --max-new-tokens}: tokens generated per prompt at most (>= 1)
 * @param temperature   {@code --temperature}: logits are divided by it before filtering and sampling (> 0;
 *                      default {@link #DEFAULT_TEMPERATURE})
 * @param topK          {@code --top-k}: keep only the k most likely tokens; 0 = no limit (default {@link #DEFAULT_TOP_K})
 * @param topP          {@code --top-p}: nucleus sampling, keep the smallest most-likely set whose probability
 *                      reaches top_p; 1 = no limit (default {@link #DEFAULT_TOP_P})
 * @param greedy        {@code --greedy}: take the argmax of the logits (lowest id on ties); ignores top-k/top-p
 * @param seed          {@code --seed}: one {@code SplittableRandom(seed)} per {@link RolloutEngine#sample} call, so a
 *                      call with the same prompts and options repeats exactly
 * @param stopTokenIds  EOS ids: a row that emits one stops (the EOS token is part of its output); may be empty
 * @param padTokenId    id fed at padded and finished positions (masked out, so any valid id works)
 */
public record SamplingOptions(int maxNewTokens, double temperature, int topK, double topP, boolean greedy, long seed,
    List<Integer> stopTokenIds, int padTokenId) implements java.io.Serializable {
  /** Defaults of the sampling flags of every command that samples (train, generate): the policy's own distribution. */
  public static final String DEFAULT_TEMPERATURE = "1.0";
  public static final String DEFAULT_TOP_P = "1.0";
  public static final String DEFAULT_TOP_K = "0";
  /** Default of {@code --max-new-tokens} (generate, eval). */
  public static final String DEFAULT_MAX_NEW_TOKENS = "128";

  private static final double TEMPERATURE = Double.parseDouble(DEFAULT_TEMPERATURE);
  private static final double TOP_P = Double.parseDouble(DEFAULT_TOP_P);
  private static final int TOP_K = Integer.parseInt(DEFAULT_TOP_K);

  public SamplingOptions {
    check("--max-new-tokens", maxNewTokens, temperature, topK, topP);
    if (padTokenId < 0) {
      throw new RlsrException("pad token id must be >= 0, got " + padTokenId + " (set the tokenizer's pad token or pass one)");
    }
    stopTokenIds = List.copyOf(stopTokenIds);
  }

  /**
   * The checks of the sampling flags, the same words wherever they are given: {@code lengthFlag} (e.g.
   * {@code --max-new-tokens}, {@code --max-completion-length}) at least 1, {@code --temperature} a positive finite
   * number, {@code --top-k} 0 or positive, {@code --top-p} in (0, 1].
   */
  public static void check(String lengthFlag, int maxNewTokens, double temperature, int topK, double topP) {
    if (maxNewTokens < 1) {
      throw new RlsrException(lengthFlag + " must be at least 1, got " + maxNewTokens);
    }
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new RlsrException("--temperature must be a positive number, got " + temperature);
    }
    if (topK < 0) {
      throw new RlsrException("--top-k must be 0 (no limit) or positive, got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new RlsrException("--top-p must be in (0, 1], got " + topP);
    }
  }

  /** Plain sampling at the default temperature, no filtering. */
  public static SamplingOptions sampling(int maxNewTokens, long seed, List<Integer> stopTokenIds, int padTokenId) {
    return new SamplingOptions(maxNewTokens, TEMPERATURE, TOP_K, TOP_P, false, seed, stopTokenIds, padTokenId);
  }

  /** Argmax decoding. */
  public static SamplingOptions greedy(int maxNewTokens, List<Integer> stopTokenIds, int padTokenId) {
    return new SamplingOptions(maxNewTokens, TEMPERATURE, TOP_K, TOP_P, true, 0, stopTokenIds, padTokenId);
  }

  public SamplingOptions withTemperature(double t) {
    return new SamplingOptions(maxNewTokens, t, topK, topP, greedy, seed, stopTokenIds, padTokenId);
  }

  public SamplingOptions withTopK(int k) {
    return new SamplingOptions(maxNewTokens, temperature, k, topP, greedy, seed, stopTokenIds, padTokenId);
  }

  public SamplingOptions withTopP(double p) {
    return new SamplingOptions(maxNewTokens, temperature, topK, p, greedy, seed, stopTokenIds, padTokenId);
  }

  public SamplingOptions withSeed(long s) {
    return new SamplingOptions(maxNewTokens, temperature, topK, topP, greedy, s, stopTokenIds, padTokenId);
  }

  public SamplingOptions withStopTokenIds(List<Integer> ids) {
    return new SamplingOptions(maxNewTokens, temperature, topK, topP, greedy, seed, ids, padTokenId);
  }
}
