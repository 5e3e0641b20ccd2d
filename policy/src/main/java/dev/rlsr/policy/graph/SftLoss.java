// The SFT objective: negative log-likelihood summed over response tokens, times a fed scale.
// Feeding scale = 1 / (response tokens in the whole optimizer batch) makes micro-batch accumulation
// give exactly the mean NLL of the full batch.
package dev.rlsr.policy.graph;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

public final class SftLoss implements LossSpec {
  public static final String NAME = "sft";
  /** [B, T] 1 where the target is a response token (or the final EOS), 0 for prompt and padding */
  public static final String LOSS_MASK = "sft_loss_mask";
  /** scalar: 1 / number of response tokens in the optimizer batch */
  public static final String LOSS_SCALE = "sft_loss_scale";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Outputs build(Context ctx) {
    var tf = ctx.tf();
    Operand<TFloat32> mask = ctx.placeholder(LOSS_MASK);
    Operand<TFloat32> scale = ctx.placeholder(LOSS_SCALE);
    Operand<TFloat32> nllSum = tf.math.neg(tf.reduceSum(tf.math.mul(ctx.tokenLogprobs(), mask), tf.constant(new int[] {0, 1})));
    return new Outputs(tf.math.mul(nllSum, scale), Map.of("nll_sum", nllSum));
  }
}
