// One iteration's rollouts laid out for TensorFlow: rows of prompt + completion, right-padded, with the completion
// mask and the sampler's log-probs at the positions that predict each completion token.
package dev.rlsr.rl;

import dev.rlsr.policy.rollout.Rollout;
import java.util.List;

/**
 * @param ids              [rows][len] prompt ⊕ completion, right-padded with 0
 * @param targets          next token of each position (0 past the end)
 * @param attention        1 on the row's tokens
 * @param positions        0 .. len-1
 * @param mask             1 at positions whose next token is a completion token
 * @param completionTokens completion length of each row
 * @param samplerLogp      the sampler's log_softmax(logits / T) of the completion tokens, at their mask positions
 */
record RolloutBatch(int[][] ids, int[][] targets, int[][] attention, int[][] positions, float[][] mask,
    int[] completionTokens, float[][] samplerLogp) {

  /** Rows = prompt ⊕ completion, right-padded; targets are next tokens; the mask marks completion targets. */
  static RolloutBatch layout(List<int[]> prompts, List<Rollout> rollouts) {
    int rows = prompts.size();
    int len = 1;
    for (int r = 0; r < rows; r++) {
      len = Math.max(len, prompts.get(r).length + rollouts.get(r).tokens().length);
    }
    int[][] ids = new int[rows][len];
    int[][] targets = new int[rows][len];
    int[][] attention = new int[rows][len];
    int[][] positions = new int[rows][len];
    float[][] mask = new float[rows][len];
    float[][] sampler = new float[rows][len];
    int[] completionTokens = new int[rows];
    for (int r = 0; r < rows; r++) {
      int[] p = prompts.get(r);
      Rollout ro = rollouts.get(r);
      int[] c = ro.tokens();
      int n = p.length + c.length;
      for (int j = 0; j < len; j++) {
        positions[r][j] = j;
      }
      System.arraycopy(p, 0, ids[r], 0, p.length);
      System.arraycopy(c, 0, ids[r], p.length, c.length);
      for (int j = 0; j < n; j++) {
        attention[r][j] = 1;
        if (j + 1 < n) {
          targets[r][j] = ids[r][j + 1];
        }
      }
      for (int k = 0; k < c.length; k++) {
        int pos = p.length - 1 + k; // position whose next token is completion token k
        mask[r][pos] = 1f;
        sampler[r][pos] = ro.policyLogProbs()[k];
      }
      completionTokens[r] = c.length;
    }
    return new RolloutBatch(ids, targets, attention, positions, mask, completionTokens, sampler);
  }
}
