// Reads and refusals of config.json keys that several families share; each family calls the ones it needs, in order.
package dev.rlsr.policy.model.family;

import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;

final class CommonKeys {
  private CommonKeys() {}

  /** {@code hidden_act}: only silu (the SwiGLU MLP), default silu. */
  static void requireSilu(StrictJson j) {
    String act = j.optString("hidden_act", "silu");
    if (!act.equals("silu")) {
      throw new RlsrException(j.source() + ": hidden_act \"" + act + "\" is not supported (only silu)");
    }
  }

  /** {@code rope_scaling}: refused unless absent or null (null means none, as in transformers). */
  static void refuseRopeScaling(StrictJson j) {
    if (j.has("rope_scaling")) {
      throw new RlsrException(j.source() + ": rope_scaling is not supported (remove it or use a model without rotary scaling)");
    }
  }

  /** {@code use_sliding_window}: must be false or absent. */
  static void refuseSlidingWindow(StrictJson j) {
    if (j.optBool("use_sliding_window", false)) {
      throw new RlsrException(j.source() + ": use_sliding_window=true (sliding-window attention) is not supported");
    }
  }

  /** {@code mlp_bias}: must be false or absent. */
  static void refuseMlpBias(StrictJson j) {
    if (j.optBool("mlp_bias", false)) {
      throw new RlsrException(j.source() + ": mlp_bias=true is not supported");
    }
  }
}
