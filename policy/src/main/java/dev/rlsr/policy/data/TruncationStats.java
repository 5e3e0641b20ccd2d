// Counts what the over-long rule of SftTokenizer did, so the caller can print it.
package dev.rlsr.policy.data;

/** Not thread-safe; one per tokenization pass. */
public final class TruncationStats {
  private int kept;
  private int truncated;
  private int dropped;
  private int promptsTruncated;

  /** SFT examples that fit whole. */
  public int kept() {
    return kept;
  }

  /** SFT examples whose response was cut on the right (EOS dropped). */
  public int truncated() {
    return truncated;
  }

  /** SFT examples dropped because the prompt left no room for a response token. */
  public int dropped() {
    return dropped;
  }

  /** Rollout prompts whose leading tokens were cut (left truncation). */
  public int promptsTruncated() {
    return promptsTruncated;
  }

  void addKept() {
    kept++;
  }

  void addTruncated() {
    truncated++;
  }

  void addDropped() {
    dropped++;
  }

  void addPromptTruncated() {
    promptsTruncated++;
  }

  @Override
  public String toString() {
    return "kept " + kept + ", truncated " + truncated + ", dropped " + dropped
        + (promptsTruncated > 0 ? ", prompts left-truncated " + promptsTruncated : "");
  }
}
