// Tiny configs of every supported family and variant (qwen3 q/k norm, llama3 and linear rope scaling, mistral with a
// window that never binds), with positions up to 512, and weights that make their differences visible.
package dev.rlsr.policy.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.util.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

public final class FamilyConfigs {
  /** Sequence length of the long parity batches: past original_max_position_embeddings (64) many times. */
  public static final int LONG = 320;

  private FamilyConfigs() {}

  private static ModelConfig.Builder base(String type) {
    return ModelConfig.builder(type).vocabSize(64).hiddenSize(32).intermediateSize(48).layers(2).heads(4).kvHeads(2)
        .maxPositions(512).bosId(1).eosId(2);
  }

  /** Qwen3: q/k norm, head_dim 12 (not hidden / heads = 8), tied, rope_theta 1e6. */
  public static ModelConfig qwen3() {
    return base("qwen3").headDim(12).tied(true).ropeTheta(1000000.0).build();
  }

  /**
   * Llama with rope_scaling llama3: factor 8, low 1, high 4, original 64; head_dim 16 and theta 10000 give the
   * wavelengths 6.3 (high band, kept), 19.9 and 62.8 (medium, interpolated) and 199.. (low, divided by 8).
   */
  public static ModelConfig llama3Scaled() {
    ObjectNode rs = Json.MAPPER.createObjectNode();
    rs.put("factor", 8.0);
    rs.put("low_freq_factor", 1.0);
    rs.put("high_freq_factor", 4.0);
    rs.put("original_max_position_embeddings", 64);
    rs.put("rope_type", "llama3");
    return base("llama").headDim(16).tied(true).ropeTheta(10000.0).key("rope_scaling", rs).build();
  }

  /** Llama with rope_scaling linear, factor 4, under the legacy key {@code type}. */
  public static ModelConfig llamaLinear() {
    ObjectNode rs = Json.MAPPER.createObjectNode();
    rs.put("type", "linear");
    rs.put("factor", 4.0);
    return base("llama").tied(false).ropeTheta(10000.0).key("rope_scaling", rs).build();
  }

  /** Mistral with sliding_window 512 = max_position_embeddings: accepted, plain causal attention. */
  public static ModelConfig mistral() {
    return base("mistral").tied(false).ropeTheta(1000000.0).key("sliding_window", Json.MAPPER.getNodeFactory().numberNode(512))
        .build();
  }

  /** Qwen2 (q/k/v biases) at the same sizes, declaring an unused sliding window as its published configs do. */
  public static ModelConfig qwen2Long() {
    return base("qwen2").tied(true).ropeTheta(1000000.0)
        .key("sliding_window", Json.MAPPER.getNodeFactory().numberNode(64)).build();
  }

  /** Every variant above, by label. */
  public static Map<String, ModelConfig> all() {
    Map<String, ModelConfig> m = new LinkedHashMap<>();
    m.put("qwen3", qwen3());
    m.put("llama rope llama3", llama3Scaled());
    m.put("llama rope linear", llamaLinear());
    m.put("mistral", mistral());
    m.put("qwen2 unused sliding_window", qwen2Long());
    return m;
  }

  /**
   * Random weights ({@link ModelWeights#random}) with q_proj/k_proj 10x larger (attention far from uniform, so
   * rotary angles matter), embeddings and lm_head 20x larger (logits of order 1) and every norm weight uniform in
   * 1 +- 0.5 (so q_norm/k_norm weights matter).
   */
  public static ModelWeights weights(ModelConfig c, long seed) {
    ModelWeights w = ModelWeights.random(c, seed);
    SplittableRandom rng = new SplittableRandom(seed * 31 + 7);
    for (Map.Entry<String, FloatTensor> e : w.tensors().entrySet()) {
      float[] d = e.getValue().data();
      String n = e.getKey();
      if (n.endsWith("norm.weight")) {
        for (int i = 0; i < d.length; i++) {
          d[i] = (float) (1 + 0.5 * (rng.nextDouble() * 2 - 1));
        }
      } else if (n.endsWith("q_proj.weight") || n.endsWith("k_proj.weight")) {
        for (int i = 0; i < d.length; i++) {
          d[i] *= 10;
        }
      } else if (n.equals("model.embed_tokens.weight") || n.equals("lm_head.weight")) {
        for (int i = 0; i < d.length; i++) {
          d[i] *= 20;
        }
      }
    }
    return w;
  }

  /**
   * A batch of two rows of {@link #LONG} tokens: row 0 all real, row 1 left-padded by 17. Returns {ids, mask, pos}
   * with positions cumsum(mask) - 1 as generation uses them.
   */
  public static int[][][] longBatch(int vocab) {
    int[][] ids = new int[2][LONG];
    int[][] mask = new int[2][LONG];
    for (int t = 0; t < LONG; t++) {
      ids[0][t] = (7 * t + 3) % vocab;
      ids[1][t] = t < 17 ? 0 : (11 * t + 5) % vocab;
      mask[0][t] = 1;
      mask[1][t] = t < 17 ? 0 : 1;
    }
    return new int[][][] {ids, mask, NaiveLlama.positionsFromMask(mask)};
  }

  /** The labels, for parameterized tests. */
  public static List<String> labels() {
    return List.copyOf(all().keySet());
  }
}
