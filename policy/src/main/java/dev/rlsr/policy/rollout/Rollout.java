// One sampled continuation of a prompt, with the log-probabilities GRPO needs.
package dev.rlsr.policy.rollout;

/**
 * @param tokens            generated token ids, the EOS token included when the row stopped on one
 * @param samplingLogProbs  per token, the log-probability under the distribution it was actually drawn from:
 *                          log_softmax(logits / temperature) restricted to the top-k / top-p kept set and
 *                          renormalised over it; 0 for greedy decoding (a point mass)
 * @param policyLogProbs    per token, log_softmax(logits / temperature) over the whole vocabulary, no filtering
 * @param finishedByEos     the row stopped on a stop token (false: it ran into max new tokens)
 */
public record Rollout(int[] tokens, float[] samplingLogProbs, float[] policyLogProbs, boolean finishedByEos)
    implements java.io.Serializable {}
