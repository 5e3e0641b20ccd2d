// The ONNX Runtime / TensorFlow log-prob gap on one iteration's completion tokens, and the truncated
// importance-sampling weights derived from it (RlsrTrainer computes them; metrics.jsonl reports the gap).
package dev.rlsr.rl;

/**
 * @param weight     per row and position, the IS weight of the policy term (1 without --is-correction, 0 off the mask)
 * @param gapMean    mean |ℓ_old − ℓ_sampler| over completion tokens
 * @param gapMax     largest |ℓ_old − ℓ_sampler|
 * @param weightMean mean weight over completion tokens
 */
record SamplerGap(float[][] weight, double gapMean, double gapMax, double weightMean) {}
