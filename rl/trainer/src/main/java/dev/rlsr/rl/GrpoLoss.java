// The GRPO objective of TRL's GRPOTrainer as TensorFlow ops, in paper order: ratio, clipped surrogate, importance-
// sampling correction, k3 KL to the reference, per-row aggregation weights (see LossType). Masked tokens are
// zeroed before any exp, so padding can never turn the loss or its gradient into NaN.
package dev.rlsr.rl;

import dev.rlsr.policy.graph.LossSpec;
import dev.rlsr.policy.graph.TokenBatch;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

public final class GrpoLoss implements LossSpec<GrpoLoss.Inputs> {
  public static final String NAME = "grpo";

  /**
   * One micro-batch of the GRPO objective; every [B, T] array is aligned with the token batch's targets.
   * @param tokens       prompt ⊕ completion rows
   * @param oldLogprobs  log-probs of the sampled tokens under the policy that generated them (ℓ_old), recomputed in TF
   * @param refLogprobs  log-probs under the frozen reference model (ℓ_ref); equal to oldLogprobs when beta = 0
   * @param advantages   the row's advantage Â repeated over its tokens
   * @param mask         1 on completion tokens that count, else 0
   * @param tokenWeights mask * the row's aggregation weight (LossType.rowWeights)
   * @param isWeights    truncated importance-sampling weight min(exp(ℓ_old - ℓ_sampler), cap); 1 without correction
   * @param coefficients the KL weight and the ratio's clip range
   */
  public record Inputs(TokenBatch tokens, float[][] oldLogprobs, float[][] refLogprobs, float[][] advantages,
      float[][] mask, float[][] tokenWeights, float[][] isWeights, Coefficients coefficients)
      implements LossSpec.Inputs {
    /** Weight of the k3 KL to the reference. */
    public float beta() {
      return coefficients.beta();
    }

    /** Lower clip of the ratio, 1 - epsilonLow. */
    public float epsilonLow() {
      return coefficients.epsilonLow();
    }

    /** Upper clip of the ratio, 1 + epsilonHigh. */
    public float epsilonHigh() {
      return coefficients.epsilonHigh();
    }
  }

  /**
   * The scalar settings of the objective.
   *
   * @param beta        weight of the k3 KL to the reference
   * @param epsilonLow  lower clip of the ratio, 1 - epsilonLow
   * @param epsilonHigh upper clip of the ratio, 1 + epsilonHigh
   */
  public record Coefficients(float beta, float epsilonLow, float epsilonHigh) {}

  /** Per-token terms of the objective, [B, T]. */
  public record Terms(Operand<TFloat32> ratio, Operand<TFloat32> policyLoss, Operand<TFloat32> kl,
      Operand<TFloat32> perTokenLoss, Operand<TFloat32> clippedLow, Operand<TFloat32> clippedHigh) {}

  @Override
  public String name() {
    return NAME;
  }

  /**
   * The objective's per-token terms from the policy's log-probs ℓθ:
   * ρ = exp(ℓθ − ℓ_old); L_pg = −min(ρ·Â, clip(ρ, 1−ε_low, 1+ε_high)·Â) · w_IS;
   * KL_k3 = exp(ℓ_ref − ℓθ) − (ℓ_ref − ℓθ) − 1; L = L_pg + β·KL_k3.
   */
  public static Terms terms(Ops tf, Operand<TFloat32> logp, Operand<TFloat32> old, Operand<TFloat32> ref,
      Operand<TFloat32> adv, Operand<TFloat32> mask, Operand<TFloat32> isWeight, Operand<TFloat32> beta,
      Operand<TFloat32> epsLow, Operand<TFloat32> epsHigh) {
    Operand<TBool> real = tf.math.greater(mask, tf.constant(0f));
    Operand<TFloat32> zero = tf.zerosLike(logp);
    // log-ratio and reference gap, zero on masked tokens (no exp of garbage)
    Operand<TFloat32> logRatio = tf.select(real, tf.math.sub(logp, old), zero);
    Operand<TFloat32> refGap = tf.select(real, tf.math.sub(ref, logp), zero);

    Operand<TFloat32> ratio = tf.math.exp(logRatio); // ρ
    Operand<TFloat32> one = tf.constant(1f);
    Operand<TFloat32> clipped = tf.math.minimum(tf.math.maximum(ratio, tf.math.sub(one, epsLow)), tf.math.add(one, epsHigh));
    Operand<TFloat32> surrogate = tf.math.minimum(tf.math.mul(ratio, adv), tf.math.mul(clipped, adv));
    Operand<TFloat32> policyLoss = tf.math.mul(tf.math.neg(surrogate), isWeight);
    Operand<TFloat32> kl = tf.math.sub(tf.math.sub(tf.math.exp(refGap), refGap), one); // k3 estimator
    Operand<TFloat32> perToken = tf.math.mul(tf.math.add(policyLoss, tf.math.mul(beta, kl)), mask);

    // clip indicators as TRL counts them: low clip when ρ < 1-ε_low and Â < 0, high clip when ρ > 1+ε_high and Â > 0
    Operand<TFloat32> low = tf.dtypes.cast(tf.math.logicalAnd(tf.math.less(ratio, tf.math.sub(one, epsLow)),
        tf.math.less(adv, tf.constant(0f))), TFloat32.class);
    Operand<TFloat32> high = tf.dtypes.cast(tf.math.logicalAnd(tf.math.greater(ratio, tf.math.add(one, epsHigh)),
        tf.math.greater(adv, tf.constant(0f))), TFloat32.class);
    return new Terms(ratio, tf.math.mul(policyLoss, mask), tf.math.mul(kl, mask), perToken, tf.math.mul(low, mask),
        tf.math.mul(high, mask));
  }

  @Override
  public Outputs<Inputs> build(Context ctx) {
    Ops tf = ctx.tf();
    Placeholder<TFloat32> mask = ctx.placeholder("grpo_mask");
    Placeholder<TFloat32> old = ctx.placeholder("grpo_old_logp");
    Placeholder<TFloat32> ref = ctx.placeholder("grpo_ref_logp");
    Placeholder<TFloat32> adv = ctx.placeholder("grpo_advantages");
    Placeholder<TFloat32> isWeight = ctx.placeholder("grpo_is_weight");
    Placeholder<TFloat32> beta = ctx.placeholder("grpo_beta");
    Placeholder<TFloat32> epsLow = ctx.placeholder("grpo_epsilon_low");
    Placeholder<TFloat32> epsHigh = ctx.placeholder("grpo_epsilon_high");
    Terms t = terms(tf, ctx.tokenLogprobs(), old, ref, adv, mask, isWeight, beta, epsLow, epsHigh);
    Placeholder<TFloat32> tokenWeight = ctx.placeholder("grpo_token_weight"); // after the terms: same graph as before
    Operand<TFloat32> loss = sumAll(tf, tf.math.mul(t.perTokenLoss(), tokenWeight));
    Map<String, Operand<TFloat32>> metrics = new LinkedHashMap<>();
    metrics.put("mask_sum", sumAll(tf, mask));
    metrics.put("kl_sum", sumAll(tf, t.kl()));
    metrics.put("clip_low_sum", sumAll(tf, t.clippedLow()));
    metrics.put("clip_high_sum", sumAll(tf, t.clippedHigh()));
    metrics.put("entropy_sum", sumAll(tf, tf.math.mul(ctx.entropy(), mask)));
    metrics.put("policy_loss_sum", sumAll(tf, t.policyLoss()));
    return new Outputs<>(loss, metrics, (in, run) -> run.floats(old, in.oldLogprobs()).floats(ref, in.refLogprobs())
        .floats(adv, in.advantages()).floats(mask, in.mask()).floats(tokenWeight, in.tokenWeights())
        .floats(isWeight, in.isWeights()).scalar(beta, in.beta()).scalar(epsLow, in.epsilonLow())
        .scalar(epsHigh, in.epsilonHigh()));
  }

  static Operand<TFloat32> sumAll(Ops tf, Operand<TFloat32> x) {
    return tf.reduceSum(x, tf.constant(new int[] {0, 1}));
  }
}
