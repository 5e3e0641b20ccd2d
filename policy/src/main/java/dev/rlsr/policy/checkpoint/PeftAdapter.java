// A LoRA adapter directory in PEFT's layout: adapter_config.json (peft_type LORA, r, lora_alpha, lora_dropout,
// target_modules, base_model_name_or_path, bias none, task_type CAUSAL_LM) and adapter_model.safetensors (PEFT's
// tensor names), with the tokenizer files. What rlsr writes for a LoRA run and what it reads back as a model,
// whether rlsr or PEFT wrote it; every refusal names the file and the key.
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class PeftAdapter {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";

  /**
   * An adapter directory's config.
   *
   * @param lora      the adapter's hyper-parameters and modules
   * @param baseModel the base model directory, resolved ({@code base_model_name_or_path}: absolute, or relative to
   *                  the adapter directory)
   */
  public record Spec(LoraConfig lora, Path baseModel) {}

  private PeftAdapter() {}

  /** Whether {@code dir} holds an adapter (its adapter_config.json) rather than a whole model. */
  public static boolean isAdapterDir(Path dir) {
    return Files.isRegularFile(dir.resolve(CONFIG));
  }

  /**
   * Writes adapter_model.safetensors (PEFT names, float32), the tokenizer files of {@code tokenizerFrom} and, last,
   * adapter_config.json (its presence says the directory is complete).
   *
   * @param adapter   the adapter in rlsr names ({@link LoraConfig#layout} of {@code c}), e.g. PolicyGraph.adapter()
   * @param baseModel the base model's directory, written absolute as {@code base_model_name_or_path}
   * @param metadata  string metadata for the safetensors header (e.g. the resolved run config)
   */
  public static void write(Path dir, ModelConfig c, LoraConfig lora, Path baseModel, TensorSource adapter,
      Tokenizer tokenizerFrom, Map<String, String> metadata) throws IOException {
    Files.createDirectories(dir);
    LinkedHashMap<String, long[]> want = lora.layout(c);
    LinkedHashMap<String, long[]> have = adapter.shapes();
    for (var e : want.entrySet()) {
      if (!have.containsKey(e.getKey()) || !Arrays.equals(have.get(e.getKey()), e.getValue())) {
        throw new IllegalArgumentException("adapter to save: tensor " + e.getKey() + " is "
            + (have.containsKey(e.getKey()) ? "of shape " + Arrays.toString(have.get(e.getKey())) : "missing")
            + ", the adapter needs " + Arrays.toString(e.getValue()));
      }
    }
    LinkedHashMap<String, String> md = new LinkedHashMap<>();
    md.put("format", "pt");
    if (metadata != null) {
      md.putAll(metadata);
    }
    Safetensors.write(dir.resolve(WEIGHTS), toPeftNames(adapter, want), Safetensors.DType.F32, md);
    if (tokenizerFrom != null) {
      tokenizerFrom.copyFilesTo(dir);
    }
    Json.PRETTY.writeValue(dir.resolve(CONFIG).toFile(), configJson(lora, baseModel));
  }

  /** adapter_config.json as PEFT writes it for a LoRA adapter of a causal LM. */
  public static ObjectNode configJson(LoraConfig lora, Path baseModel) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("peft_type", "LORA");
    n.put("task_type", "CAUSAL_LM");
    n.put("base_model_name_or_path", baseModel.toAbsolutePath().normalize().toString());
    n.put("r", lora.r());
    if (lora.alpha() == Math.rint(lora.alpha())) {
      n.put("lora_alpha", (long) lora.alpha());
    } else {
      n.put("lora_alpha", lora.alpha());
    }
    n.put("lora_dropout", lora.dropout());
    ArrayNode t = n.putArray("target_modules");
    lora.targetModules().forEach(t::add);
    n.put("bias", "none");
    n.put("fan_in_fan_out", false);
    n.put("use_rslora", false);
    n.put("use_dora", false);
    n.put("inference_mode", true);
    n.putNull("modules_to_save");
    n.putNull("layers_to_transform");
    return n;
  }

  /**
   * Reads and checks {@code dir}/adapter_config.json: a LoRA adapter (peft_type LORA, bias none, no rsLoRA, DoRA,
   * per-layer ranks, layer subsets or extra saved modules, target_modules among rlsr's linear layers) with its base.
   */
  public static Spec readConfig(Path dir) {
    Path file = dir.resolve(CONFIG);
    ObjectNode n = StrictJson.readObject(file);
    StrictJson j = StrictJson.of(n, file.toString());
    String type = text(n, file, "peft_type");
    if (!type.equals("LORA")) {
      throw new RlsrException(file + ": peft_type is \"" + type + "\"; rlsr loads only LoRA adapters (\"LORA\")");
    }
    String bias = n.hasNonNull("bias") ? text(n, file, "bias") : "none";
    if (!bias.equals("none")) {
      throw new RlsrException(file + ": bias is \"" + bias + "\"; rlsr's adapters train no biases (\"none\")");
    }
    for (String flag : List.of("use_rslora", "use_dora", "fan_in_fan_out")) {
      if (n.hasNonNull(flag) && (!n.get(flag).isBoolean() || n.get(flag).asBoolean())) {
        throw new RlsrException(file + ": " + flag + " is " + n.get(flag) + "; rlsr merges plain LoRA only (false)");
      }
    }
    for (String key : List.of("rank_pattern", "alpha_pattern")) {
      if (n.hasNonNull(key) && !(n.get(key).isObject() && n.get(key).isEmpty())) {
        throw new RlsrException(file + ": " + key + " is " + n.get(key) + "; rlsr supports one r and lora_alpha for"
            + " every layer ({} or absent)");
      }
    }
    for (String key : List.of("modules_to_save", "layers_to_transform", "layers_pattern")) {
      JsonNode v = n.get(key);
      if (v != null && !v.isNull() && !(v.isArray() && v.isEmpty())) {
        throw new RlsrException(file + ": " + key + " is " + v + "; rlsr adapts every layer's linear modules only"
            + " (null)");
      }
    }
    if (!n.hasNonNull("r")) {
      throw new RlsrException(file + ": missing key r (the adapter's rank)");
    }
    int r = j.requirePositiveInt("r");
    double alpha = n.hasNonNull("lora_alpha") ? j.optDouble("lora_alpha", 8) : 8; // PEFT's default lora_alpha
    double dropout = n.hasNonNull("lora_dropout") ? j.optDouble("lora_dropout", 0) : 0;
    JsonNode tm = n.get("target_modules");
    if (tm == null || tm.isNull()) {
      throw new RlsrException(file + ": missing key target_modules");
    }
    List<String> targets = new ArrayList<>();
    if (tm.isTextual()) {
      targets.addAll(LoraConfig.parseTargets(tm.asText()));
    } else if (tm.isArray()) {
      for (JsonNode m : tm) {
        if (!m.isTextual()) {
          throw new RlsrException(file + ": target_modules holds " + m + "; expected module names such as \"q_proj\"");
        }
        targets.add(m.asText());
      }
    } else {
      throw new RlsrException(file + ": target_modules is " + StrictJson.kind(tm) + "; expected a list of names");
    }
    for (String m : targets) {
      if (!LoraConfig.MODULES.contains(m)) {
        throw new RlsrException(file + ": target_modules names \"" + m + "\"; rlsr adapts "
            + String.join(", ", LoraConfig.MODULES));
      }
    }
    LoraConfig lora;
    try {
      lora = new LoraConfig(r, alpha, dropout, targets);
    } catch (RlsrException e) {
      throw new RlsrException(file + ": " + e.getMessage().replace("--lora-r", "r").replace("--lora-alpha", "lora_alpha")
          .replace("--lora-dropout", "lora_dropout").replace("--lora-target-modules", "target_modules"));
    }
    String base = text(n, file, "base_model_name_or_path");
    Path basePath = Path.of(base);
    if (!basePath.isAbsolute()) {
      basePath = dir.resolve(basePath);
    }
    basePath = basePath.toAbsolutePath().normalize();
    if (!Files.isDirectory(basePath)) {
      throw new RlsrException(file + ": base_model_name_or_path \"" + base + "\" is not a model directory here ("
          + basePath + " not found); rlsr loads the base from a local directory, absolute or relative to " + dir);
    }
    return new Spec(lora, basePath);
  }

  private static String text(ObjectNode n, Path file, String key) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      throw new RlsrException(file + ": missing key " + key);
    }
    if (!v.isTextual()) {
      throw new RlsrException(file + ": " + key + " is " + StrictJson.kind(v) + ", expected a string");
    }
    return v.asText();
  }

  /** An adapter directory's tensors opened: in rlsr names, checked against the layout; close when done. */
  public static final class Opened implements AutoCloseable {
    private final SafetensorsSource file;
    private final TensorSource tensors;

    private Opened(SafetensorsSource file, TensorSource tensors) {
      this.file = file;
      this.tensors = tensors;
    }

    /** The adapter in rlsr names, {@link LoraConfig#layout} order. */
    public TensorSource tensors() {
      return tensors;
    }

    @Override
    public void close() {
      file.close();
    }
  }

  /**
   * Opens {@code dir}/adapter_model.safetensors: every tensor of {@code lora.layout(c)} must be there under its PEFT
   * name with its shape ([r, in] for lora_A, [out, r] for lora_B); tensors beyond those are refused (they would be
   * silently dropped otherwise). PEFT's {@code .default} adapter-name infix, if present, is accepted.
   */
  public static Opened open(Path dir, ModelConfig c, LoraConfig lora) {
    Path f = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(f)) {
      throw new RlsrException(f + ": not found (an adapter directory needs " + WEIGHTS + " beside " + CONFIG + ")");
    }
    SafetensorsSource file = SafetensorsSource.open(f);
    try {
      LinkedHashMap<String, long[]> have = file.shapes();
      LinkedHashMap<String, String> fileName = new LinkedHashMap<>(); // rlsr name -> name in the file
      for (String peft : have.keySet()) {
        String rlsr = LoraConfig.fromPeftName(peft).replace(".lora_A.default.weight", ".lora_A.weight")
            .replace(".lora_B.default.weight", ".lora_B.weight");
        fileName.put(rlsr, peft);
      }
      LinkedHashMap<String, long[]> want = lora.layout(c);
      for (var e : want.entrySet()) {
        String peft = fileName.get(e.getKey());
        if (peft == null) {
          throw new RlsrException(f + ": missing tensor " + LoraConfig.peftName(e.getKey()) + " (shape "
              + Arrays.toString(e.getValue()) + ") for target_modules " + lora.targetModules() + " with r " + lora.r());
        }
        if (!Arrays.equals(have.get(peft), e.getValue())) {
          throw new RlsrException(f + ": tensor " + peft + " has shape " + Arrays.toString(have.get(peft))
              + ", expected " + Arrays.toString(e.getValue()) + " (r " + lora.r() + " in " + CONFIG + ")");
        }
      }
      for (String rlsr : fileName.keySet()) {
        if (!want.containsKey(rlsr)) {
          throw new RlsrException(f + ": tensor " + fileName.get(rlsr) + " is not a LoRA tensor of target_modules "
              + lora.targetModules() + " in a " + c.numLayers() + "-layer " + c.modelType() + " model");
        }
      }
      LinkedHashMap<String, String> toFile = new LinkedHashMap<>();
      want.keySet().forEach(k -> toFile.put(k, fileName.get(k)));
      return new Opened(file, TensorSource.renamed(file, want, toFile));
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** {@code source}'s tensors of {@code layout} under their PEFT names. */
  private static TensorSource toPeftNames(TensorSource source, LinkedHashMap<String, long[]> layout) {
    LinkedHashMap<String, String> from = new LinkedHashMap<>(); // PEFT name -> source name
    LinkedHashMap<String, long[]> peftLayout = new LinkedHashMap<>();
    layout.forEach((k, v) -> {
      from.put(LoraConfig.peftName(k), k);
      peftLayout.put(LoraConfig.peftName(k), v);
    });
    return TensorSource.renamed(source, peftLayout, from);
  }
}
