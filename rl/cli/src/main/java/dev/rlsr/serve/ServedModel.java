// The model `rlsr serve` answers with: opened from an export directory (any dtype's ONNX file) or from a model or
// LoRA adapter directory, with its tokenizer, chat template and context length.
package dev.rlsr.serve;

import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.OrtRolloutEngine;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.PeftAdapter;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.data.Message;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a request is decoded with. Where the weights come from:
 * <ul>
 *   <li>a directory with {@code model.safetensors} (or its index), or a LoRA adapter directory
 *       ({@code adapter_config.json}, merged into its base as it loads): the ONNX graph is built in memory from the
 *       weights, stored as {@code dtype} (q8 and q4 quantize them as {@code rlsr export --dtype} does);</li>
 *   <li>an export directory ({@code rlsr export --format onnx|both}): the ONNX file of {@code dtype}
 *       ({@link ExportDtype#fileName}) in the directory or in its {@code onnx/} subdirectory, with the
 *       {@code config.json} and tokenizer beside it. Without {@code dtype} the fp32 file is served when present,
 *       else the only one there.</li>
 * </ul>
 * Prompts are rendered as {@code rlsr generate} and {@code rlsr chat-template} render them ({@link PromptRenderer}
 * over the tokenizer's chat template) and tokenized as rollouts are (BOS added where the tokenizer adds it).
 * Rendering is serialized (the template engine is shared); decoding belongs to {@link BatchScheduler}'s thread.
 */
public final class ServedModel implements AutoCloseable {
  private final String source;
  private final ModelConfig config;
  private final Tokenizer tokenizer;
  private final PromptRenderer renderer;
  private final OrtRolloutEngine engine;
  private final AutoCloseable owner; // the HfModel or the tokenizer

  private ServedModel(String source, ModelConfig config, Tokenizer tokenizer, OrtRolloutEngine engine,
      AutoCloseable owner) {
    this.source = source;
    this.config = config;
    this.tokenizer = tokenizer;
    this.renderer = PromptRenderer.forTokenizer(tokenizer);
    this.engine = engine;
    this.owner = owner;
    if (tokenizer.eosIds().length == 0) {
      throw new RlsrException(tokenizer.modelDir() + ": no EOS token (set eos_token in tokenizer_config.json or "
          + "eos_token_id in generation_config.json); a server needs one to end answers");
    }
  }

  /**
   * Opens {@code dir} (see the class comment); {@code dtype} null picks the export's fp32 file or its only one,
   * and float32 for weights.
   */
  public static ServedModel open(Path dir, ExportDtype dtype, int threads, Device device) {
    if (!Files.isDirectory(dir)) {
      throw new RlsrException(dir + ": model directory not found (--model takes an rlsr export directory, a model "
          + "directory with model.safetensors, or a LoRA adapter directory)");
    }
    if (PeftAdapter.isAdapterDir(dir) || Files.isRegularFile(dir.resolve(Safetensors.SINGLE_FILE))
        || Files.isRegularFile(dir.resolve(Safetensors.INDEX_FILE))) {
      return fromWeights(dir, dtype == null ? ExportDtype.FP32 : dtype, threads, device);
    }
    return fromExport(dir, dtype, threads, device);
  }

  private static ServedModel fromWeights(Path dir, ExportDtype dtype, int threads, Device device) {
    if (dtype == ExportDtype.FP16) {
      throw new RlsrException("--dtype fp16 serves an export's model_fp16.onnx; from weights rlsr builds fp32, q8 or q4"
          + " (" + dir + " holds weights)");
    }
    HfModel m = HfModel.load(dir);
    try {
      OrtRolloutEngine e = RolloutEngines.openOrt(RolloutEngines.Backend.ONNX, m.config(), m.tensors(),
          EngineOptions.of(threads, device).withDtype(dtype));
      return new ServedModel(dir + " (" + dtype + " from weights)", m.config(), m.tokenizer(), e, m);
    } catch (RuntimeException ex) {
      m.close();
      throw ex;
    }
  }

  private static ServedModel fromExport(Path dir, ExportDtype dtype, int threads, Device device) {
    Path home = null;
    List<ExportDtype> present = List.of();
    for (Path d : List.of(dir, dir.resolve("onnx"))) {
      present = Files.isDirectory(d) ? onnxFiles(d) : List.of();
      if (!present.isEmpty()) {
        home = d;
        break;
      }
    }
    if (home == null) {
      throw new RlsrException(dir + ": no model.safetensors, adapter_config.json or ONNX export (model.onnx, "
          + "model_fp16.onnx, model_quantized.onnx, model_q4.onnx here or in onnx/)");
    }
    if (Files.isRegularFile(home.resolve(OnnxPolicyExporter.ADAPTER_FILE))) {
      throw new RlsrException(home + " is a LoRA export (--format onnx-adapter): serve the adapter directory itself "
          + "(--model ADAPTER_DIR) or a merged export (rlsr export --format onnx of the adapter directory)");
    }
    ExportDtype pick;
    if (dtype != null) {
      if (!present.contains(dtype)) {
        throw new RlsrException(home + ": no " + dtype.fileName() + " for --dtype " + dtype + " (present: "
            + present + "; write it with rlsr export --dtype " + dtype + ")");
      }
      pick = dtype;
    } else if (present.contains(ExportDtype.FP32) || present.size() == 1) {
      pick = present.contains(ExportDtype.FP32) ? ExportDtype.FP32 : present.get(0);
    } else {
      throw new RlsrException(home + " holds " + present + " and no model.onnx: choose one with --dtype");
    }
    Path configDir = Files.isRegularFile(home.resolve(HfModel.CONFIG)) ? home : dir;
    ModelConfig config = ModelConfig.read(configDir.resolve(HfModel.CONFIG));
    Tokenizer tok = Tokenizer.load(Files.isRegularFile(home.resolve(Tokenizer.TOKENIZER_JSON)) ? home : configDir);
    try {
      tok.validateAgainst(config, configDir);
      OrtRolloutEngine e = OrtRolloutEngine.open(home.resolve(pick.fileName()), config, threads, device);
      return new ServedModel(home.resolve(pick.fileName()).toString(), config, tok, e, tok);
    } catch (RuntimeException ex) {
      tok.close();
      throw ex;
    }
  }

  private static List<ExportDtype> onnxFiles(Path d) {
    List<ExportDtype> out = new ArrayList<>();
    for (ExportDtype t : ExportDtype.values()) {
      if (Files.isRegularFile(d.resolve(t.fileName()))) {
        out.add(t);
      }
    }
    return out;
  }

  /** Where the weights came from, for the start-up line. */
  public String source() {
    return source;
  }

  public ModelConfig config() {
    return config;
  }

  /** Positions the model has: prompt plus new tokens must fit. */
  public int contextLength() {
    return config.maxPositions();
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public OrtRolloutEngine engine() {
    return engine;
  }

  public List<Integer> eosIds() {
    return Arrays.stream(tokenizer.eosIds()).boxed().toList();
  }

  /** A chat's prompt ids: the chat template with the generation cue, as rlsr generate renders a prompt. */
  public synchronized int[] chatPrompt(List<Message> messages) {
    return SftTokenizer.withBos(tokenizer, tokenizer.encode(renderer.render(messages)));
  }

  /** A plain completion prompt's ids: the text as it is, BOS first where the tokenizer adds it. */
  public int[] textPrompt(String text) {
    return SftTokenizer.withBos(tokenizer, tokenizer.encode(text));
  }

  @Override
  public void close() {
    try {
      engine.close();
    } finally {
      try {
        owner.close();
      } catch (Exception e) {
        throw new RlsrException("closing " + source + ": " + e.getMessage(), e);
      }
    }
  }
}
