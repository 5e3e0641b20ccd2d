// The weight layout of a Llama-style decoder (names and shapes of the Hugging Face checkpoint), from its description.
package dev.rlsr.policy.model.family;

import dev.rlsr.policy.model.ModelConfig;
import java.util.LinkedHashMap;

/** The tensors of {@code LlamaForCausalLM} and of the families that differ from it only as {@link Architecture} says. */
public final class DecoderLayout {
  private DecoderLayout() {}

  /**
   * Every tensor name, in forward-pass order, with its shape: embed_tokens [V, d]; per layer input_layernorm [d],
   * q_proj [H*hd, d], k_proj and v_proj [KV*hd, d] (each followed by its bias [out] when
   * {@link Architecture#qkvBias()}; q_proj and k_proj each followed by q_norm / k_norm [hd]
   * when {@link Architecture#qkNorm()}), o_proj [d, H*hd], post_attention_layernorm [d], gate_proj and up_proj [I, d],
   * down_proj [d, I]; model.norm [d]; lm_head [V, d] unless tied.
   */
  public static LinkedHashMap<String, long[]> of(ModelConfig c) {
    Architecture a = c.architecture();
    a.requireImplemented("weight layout");
    LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
    long d = c.hiddenSize();
    long q = (long) c.numHeads() * c.headDim();
    long kv = (long) c.numKvHeads() * c.headDim();
    m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), d});
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      m.put(p + "input_layernorm.weight", new long[] {d});
      m.put(p + "self_attn.q_proj.weight", new long[] {q, d});
      if (a.qkvBias()) {
        m.put(p + "self_attn.q_proj.bias", new long[] {q});
      }
      if (a.qkNorm()) {
        m.put(p + "self_attn.q_norm.weight", new long[] {c.headDim()});
      }
      m.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
      if (a.qkvBias()) {
        m.put(p + "self_attn.k_proj.bias", new long[] {kv});
      }
      if (a.qkNorm()) {
        m.put(p + "self_attn.k_norm.weight", new long[] {c.headDim()});
      }
      m.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
      if (a.qkvBias()) {
        m.put(p + "self_attn.v_proj.bias", new long[] {kv});
      }
      m.put(p + "self_attn.o_proj.weight", new long[] {d, q});
      m.put(p + "post_attention_layernorm.weight", new long[] {d});
      m.put(p + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), d});
      m.put(p + "mlp.up_proj.weight", new long[] {c.intermediateSize(), d});
      m.put(p + "mlp.down_proj.weight", new long[] {d, c.intermediateSize()});
    }
    m.put("model.norm.weight", new long[] {d});
    if (!c.tieWordEmbeddings()) {
      m.put("lm_head.weight", new long[] {c.vocabSize(), d});
    }
    return m;
  }
}
