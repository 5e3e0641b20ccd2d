// Reads and refusals of config.json keys that several families share; each family calls the ones it needs, in order.
package dev.rlsr.policy.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

  /**
   * {@code rope_scaling} as transformers reads it ({@code rope_scaling.get("rope_type", rope_scaling.get("type"))}):
   * absent, null or {@code "default"}: none; {@code "linear"} with {@code factor}; {@code "llama3"} with
   * {@code factor}, {@code low_freq_factor}, {@code high_freq_factor} and {@code original_max_position_embeddings}.
   * Any other type is refused naming the key it came from. Other keys of the object are ignored, as transformers
   * only warns about them.
   */
  static RopeScaling readRopeScaling(StrictJson j) {
    if (!j.has("rope_scaling")) {
      return RopeScaling.NONE;
    }
    JsonNode node = j.node().get("rope_scaling");
    if (!node.isObject()) {
      throw new RlsrException(j.source() + ": \"rope_scaling\" must be an object or null, got " + node);
    }
    StrictJson r = StrictJson.of((ObjectNode) node, j.source() + ": rope_scaling");
    String key = r.has("rope_type") ? "rope_type" : "type";
    if (!r.has(key)) {
      throw new RlsrException(j.source() + ": rope_scaling has neither rope_type nor type");
    }
    String type = r.optString(key, "");
    switch (type) {
      case "default":
        return RopeScaling.NONE;
      case "linear":
        return new RopeScaling.Linear(requireNumber(r, "factor"));
      case "llama3": {
        double factor = requireNumber(r, "factor");
        double low = requireNumber(r, "low_freq_factor");
        double high = requireNumber(r, "high_freq_factor");
        if (!r.has("original_max_position_embeddings")) {
          throw new RlsrException(r.source() + ": missing key \"original_max_position_embeddings\"");
        }
        int original = r.optPositiveInt("original_max_position_embeddings", 0);
        if (!(high > low)) {
          throw new RlsrException(r.source() + ": high_freq_factor (" + high + ") must be greater than low_freq_factor ("
              + low + ")");
        }
        return new RopeScaling.Llama3(factor, low, high, original);
      }
      default:
        throw new RlsrException(j.source() + ": rope_scaling." + key + " \"" + type
            + "\" is not supported (supported: default, linear, llama3)");
    }
  }

  private static double requireNumber(StrictJson r, String key) {
    if (!r.has(key)) {
      throw new RlsrException(r.source() + ": missing key \"" + key + "\"");
    }
    return r.optPositiveDouble(key, 0);
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
