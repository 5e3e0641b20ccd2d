// The SFT objective: negative log-likelihood summed over response tokens, times a fed scale.
// Feeding scale = 1 / (response tokens in the whole optimizer batch) makes micro-batch accumulation
// give exactly the mean NLL of the full batch.
package dev.rlsr.policy.graph;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

public final class SftLoss implements LossSpec<SftLoss.Inputs> {
  public static final String NAME = "sft";

  /**
   * @param tokens   the micro-batch
   * @param lossMask [B, T] 1 where the target is a response token (or the final EOS), 0 for prompt and padding
   * @param scale    1 / number of response tokens in the optimizer batch
   */
  public record Inputs(TokenBatch tokens, float[][] lossMask, float scale) implements LossSpec.Inputs {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Outputs<Inputs> build(Context ctx) {
    var tf = ctx.tf();
    Placeholder<TFloat32> mask = ctx.placeholder("sft_loss_mask");
    Placeholder<TFloat32> scale = ctx.placeholder("sft_loss_scale");
    Operand<TFloat32> nllSum = tf.math.neg(tf.reduceSum(tf.math.mul(ctx.tokenLogprobs(), mask), tf.constant(new int[] {0, 1})));
    return new Outputs<>(tf.math.mul(nllSum, scale), Map.of("nll_sum", nllSum),
        (in, run) -> run.floats(mask, in.lossMask()).scalar(scale, in.scale()));
  }
}
