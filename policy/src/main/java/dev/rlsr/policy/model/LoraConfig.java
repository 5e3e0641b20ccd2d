// A LoRA adapter's hyper-parameters (PEFT's names and meaning) and which linear layers of a model it adapts, with
// the adapter tensors' names and shapes: rlsr's own names and the names PEFT writes in adapter_model.safetensors.
package dev.rlsr.policy.model;

import dev.rlsr.policy.util.RlsrException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The adapted layer is {@code y = W x + (alpha / r) · B A x}, A [r, in] and B [out, r] (B starts at zero).
 *
 * @param r             the rank (at least 1; {@code --lora-r 0} means full fine-tuning and builds no LoraConfig)
 * @param alpha         {@code lora_alpha}: the update is scaled by alpha / r
 * @param dropout       {@code lora_dropout}: dropout on the adapter's input x while training, in [0, 1)
 * @param targetModules PEFT module names ({@code q_proj}, ..., {@code down_proj}), in {@link #MODULES} order
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules) {
  /** Every projection of attention and MLP, in forward order: what PEFT's {@code all-linear} selects in a decoder. */
  public static final List<String> MODULES =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
  /** The {@code --lora-target-modules} value for every module of {@link #MODULES}. */
  public static final String ALL_LINEAR = "all-linear";
  /** The prefix PEFT puts before a model's own tensor names. */
  public static final String PEFT_PREFIX = "base_model.model.";

  public LoraConfig {
    if (r < 1) {
      throw new RlsrException("--lora-r must be at least 1 for an adapter (0 trains every weight), got " + r);
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      throw new RlsrException("--lora-alpha must be a positive number, got " + alpha);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new RlsrException("--lora-dropout must be in [0, 1), got " + dropout);
    }
    if (targetModules.isEmpty()) {
      throw new RlsrException("--lora-target-modules names no module; give some of " + String.join(",", MODULES)
          + " or " + ALL_LINEAR);
    }
    for (String m : targetModules) {
      if (!MODULES.contains(m)) {
        throw new RlsrException("--lora-target-modules: unknown module '" + m + "'; rlsr adapts "
            + String.join(",", MODULES) + " (or " + ALL_LINEAR + " for all of them)");
      }
    }
    targetModules = MODULES.stream().filter(targetModules::contains).toList();
  }

  /** rank {@code r}, alpha {@code 2r} (the default of {@code --lora-alpha}), no dropout, every linear layer. */
  public static LoraConfig of(int r) {
    return new LoraConfig(r, 2.0 * r, 0, MODULES);
  }

  /**
   * The modules of a {@code --lora-target-modules} value: comma-separated PEFT names, or {@code all-linear}
   * (case-insensitive), checked as the record checks them.
   */
  public static List<String> parseTargets(String flag) {
    String v = flag.trim();
    if (v.equalsIgnoreCase(ALL_LINEAR)) {
      return MODULES;
    }
    List<String> out = new ArrayList<>();
    for (String part : v.split(",")) {
      String m = part.trim().toLowerCase(Locale.ROOT);
      if (!m.isEmpty() && !out.contains(m)) {
        out.add(m);
      }
    }
    return out;
  }

  /** alpha / r, the factor of B A x. */
  public double scale() {
    return alpha / r;
  }

  /**
   * The adapted linear layers of {@code c}, by weight prefix ({@code model.layers.0.self_attn.q_proj}), layer by
   * layer in {@link #MODULES} order, each with its base weight's [out, in].
   */
  public LinkedHashMap<String, long[]> adaptedLayers(ModelConfig c) {
    LinkedHashMap<String, long[]> layout = ModelWeights.layout(c);
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
    for (int layer = 0; layer < c.numLayers(); layer++) {
      for (String m : targetModules) {
        String block = MODULES.indexOf(m) < 4 ? "self_attn." : "mlp."; // q, k, v, o are attention's
        String prefix = "model.layers." + layer + "." + block + m;
        long[] w = layout.get(prefix + ".weight");
        if (w == null) {
          throw new IllegalStateException("no weight " + prefix + ".weight in the layout of " + c.modelType());
        }
        out.put(prefix, w);
      }
    }
    return out;
  }

  /**
   * The adapter's tensors in rlsr's names ({@code <prefix>.lora_A.weight} [r, in], {@code <prefix>.lora_B.weight}
   * [out, r]), in {@link #adaptedLayers} order, A before B.
   */
  public LinkedHashMap<String, long[]> layout(ModelConfig c) {
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : adaptedLayers(c).entrySet()) {
      long outDim = e.getValue()[0];
      long inDim = e.getValue()[1];
      out.put(aName(e.getKey()), new long[] {r, inDim});
      out.put(bName(e.getKey()), new long[] {outDim, r});
    }
    return out;
  }

  /** {@code <prefix>.lora_A.weight}. */
  public static String aName(String prefix) {
    return prefix + ".lora_A.weight";
  }

  /** {@code <prefix>.lora_B.weight}. */
  public static String bName(String prefix) {
    return prefix + ".lora_B.weight";
  }

  /** The name PEFT writes for an adapter tensor: {@code base_model.model.} + rlsr's name. */
  public static String peftName(String name) {
    return PEFT_PREFIX + name;
  }

  /** rlsr's name of a tensor PEFT wrote (its {@code base_model.model.} prefix removed); refused otherwise. */
  public static String fromPeftName(String peft) {
    if (!peft.startsWith(PEFT_PREFIX)) {
      throw new RlsrException("adapter tensor '" + peft + "' does not start with '" + PEFT_PREFIX
          + "' as PEFT names LoRA tensors");
    }
    return peft.substring(PEFT_PREFIX.length());
  }
}
