// An SFT example as token ids: the prompt's tokens, then the response's (and EOS unless truncated).
package dev.rlsr.policy.data;

/**
 * @param ids          prompt tokens followed by response tokens (and EOS when the response was not truncated)
 * @param promptLength number of leading prompt tokens; tokens from this index on are trained on
 */
public record TokenizedExample(int[] ids, int promptLength) {
  public TokenizedExample {
    if (promptLength < 1 || promptLength >= ids.length) {
      throw new IllegalArgumentException("promptLength " + promptLength + " must be in [1, " + (ids.length - 1)
          + "] for " + ids.length + " ids");
    }
  }

  public int length() {
    return ids.length;
  }

  /** Number of trained-on tokens (response tokens and EOS). */
  public int responseLength() {
    return ids.length - promptLength;
  }
}
