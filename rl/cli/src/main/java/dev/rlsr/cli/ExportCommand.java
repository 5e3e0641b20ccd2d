// `rlsr export`: a model directory as an ONNX serving directory (Optimum / onnxruntime-genai layout), as a
// Hugging Face safetensors checkpoint, or both; written into a temporary directory beside OUT, then renamed.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.StoredWeights;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.FlagChoices;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Exports a model directory (a base model or an rlsr sft/train output) for serving.",
        "Layout of OUT:",
        "  --format onnx         OUT/model.onnx (+ OUT/model.onnx_data when the weights exceed 1 GiB), config.json (the HF "
            + "config), tokenizer.json, tokenizer_config.json, generation_config.json, run_config.json (when the "
            + "source has one): the file names, the HF config and the input/output names (input_ids, attention_mask, "
            + "position_ids, past_key_values.i.key/value -> logits, present.i.key/value) Optimum's "
            + "ORTModelForCausalLM expects; plain ONNX Runtime loads model.onnx directly.",
        "  --format safetensors  OUT is a Hugging Face checkpoint: config.json, model.safetensors (fp32), tokenizer "
            + "files, generation_config.json (+ run_config.json).",
        "  --format both         the safetensors checkpoint in OUT and the ONNX directory in OUT/onnx/ (Optimum: subfolder=\"onnx\").",
        "  --format onnx-adapter a LoRA adapter directory (--model with adapter_config.json): OUT/model.onnx (+ "
            + "model.onnx_data) is the BASE model with every adapter tensor as an input whose default is zero, and "
            + "OUT/adapter.onnx_adapter the adapter in ONNX Runtime's adapter format: load it with "
            + "OrtLoraAdapter.create and run with RunOptions.addActiveLoraAdapter; other adapters of the same rank "
            + "and modules swap in without a new session. The other formats of an adapter directory write the "
            + "merged model (W + alpha/r B A).",
        "  --dtype fp32,fp16,q8,q4 (or all) writes one ONNX file per dtype beside one another, named as "
            + "transformers.js and Optimum name them: model.onnx (fp32), model_fp16.onnx (matrices stored as float16, "
            + "cast to float32 in the graph), model_quantized.onnx (q8: int8 weights per output channel, activations "
            + "quantized at run time, DynamicQuantizeMatMul), model_q4.onnx (4-bit blocks of --q4-block-size inputs, "
            + "symmetric, MatMulNBits); each with its own _data file when large. Embeddings and norms stay float32, the "
            + "LM head too unless --quantize-lm-head. The inputs, outputs and KV cache are those of model.onnx; "
            + "quantize_config.json records what each file stores.",
        "The ONNX metadata holds the HF config (rlsr.config) and the export settings (rlsr.export, plus "
            + "rlsr.run_config when present). OUT is written into a temporary directory beside it and renamed "
            + "into place; a non-empty OUT is refused unless --force."})
public final class ExportCommand implements Callable<Integer> {
  /** Subdirectory of OUT holding the ONNX files with --format both. */
  public static final String ONNX_SUBDIR = "onnx";

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, description = "Hugging Face model directory to export.")
  Path model;

  @Option(names = "--out", required = true, description = "Output directory (created; must be absent or empty unless --force).")
  Path out;

  /** What {@code --format} writes (see the command's description). */
  enum Format {
    ONNX, SAFETENSORS, BOTH, ONNX_ADAPTER;

    @Override
    public String toString() {
      return FlagChoices.name(this);
    }
  }

  @Option(names = "--format", defaultValue = "onnx", converter = FlagConverters.Format.class, description = "onnx, safetensors, both or onnx-adapter (default: ${DEFAULT-VALUE}).")
  Format format;

  @Option(names = "--dtype", split = ",", description = "Weights of the ONNX files: fp32, fp16, q8, q4 or all; comma-separated or repeated, one file each (default: fp32).")
  List<String> dtypeNames;

  @Mixin QuantizeMixin quantize;

  @Option(names = "--force", description = "Replace a non-empty OUT.")
  boolean force;

  /** The file name of what --dtype writes: quantize_config.json, beside the ONNX files. */
  public static final String QUANTIZE_CONFIG = "quantize_config.json";

  /** --dtype as given (all: every dtype), duplicates dropped; fp32 when not given. */
  List<ExportDtype> dtypes() {
    LinkedHashSet<ExportDtype> out = new LinkedHashSet<>();
    for (String d : dtypeNames == null ? List.of("fp32") : dtypeNames) {
      if (d.trim().equalsIgnoreCase("all")) {
        out.addAll(List.of(ExportDtype.values()));
      } else {
        try {
          out.add(FlagChoices.parse("--dtype", d.trim(), ExportDtype.values()));
        } catch (RlsrException e) {
          throw new RlsrException(e.getMessage() + " (or all)");
        }
      }
    }
    return new ArrayList<>(out);
  }

  @Override
  public Integer call() throws Exception {
    Path target = out.toAbsolutePath().normalize();
    if (Files.exists(target) && !Files.isDirectory(target)) {
      throw new RlsrException("--out " + out + " is a file, not a directory");
    }
    RunGuard.checkOut(out, RunGuard.inputs("--model", model, null, null));
    if (FileTrees.isSameOrInside(model, out)) { // --force would delete the model with the old OUT
      throw new RlsrException("--model " + model + " lies inside --out " + out
          + ", which the export replaces; export to another directory");
    }
    if (!force && FileTrees.isNonEmptyDir(target)) {
      throw new RlsrException("--out " + out + " is not empty; choose another directory or pass --force to replace it");
    }
    List<ExportDtype> dtypes = dtypes();
    boolean onlyFp32 = dtypes.equals(List.of(ExportDtype.FP32));
    if (!onlyFp32 && format == Format.SAFETENSORS) {
      throw new RlsrException("--dtype applies to the ONNX files (--format onnx or both); --format safetensors "
          + "writes float32 safetensors");
    }
    if (!onlyFp32 && format == Format.ONNX_ADAPTER) {
      throw new RlsrException("--format onnx-adapter writes a float32 base with adapter inputs; drop --dtype, or "
          + "export the merged model with --format onnx --dtype ...");
    }
    if (quantize.quantizeLmHead && dtypes.stream().noneMatch(ExportDtype::quantized)) {
      throw new RlsrException("--quantize-lm-head needs a quantized --dtype (q8 or q4)");
    }
    if (dtypes.contains(ExportDtype.Q4)) {
      quantize.check();
    }
    try (HfModel m = HfModel.load(model)) {
      if (format == Format.ONNX_ADAPTER && m.adapter() == null) {
        throw new RlsrException("--format onnx-adapter exports a LoRA adapter, but --model " + model + " has no "
            + "adapter_config.json; export a whole model with --format onnx");
      }
      Path parent = target.getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".export-");
      if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x")); // not the temp dir's 700
      }
      try {
        String runConfig = readRunConfig(m.dir());
        if (format == Format.ONNX_ADAPTER) {
          writeOnnx(m, tmp, runConfig, dtypes);
        } else if (format != Format.ONNX) {
          writeSafetensors(m, tmp, runConfig);
        }
        if (format == Format.ONNX || format == Format.BOTH) {
          writeOnnx(m, format == Format.BOTH ? tmp.resolve(ONNX_SUBDIR) : tmp, runConfig, dtypes);
        }
        replace(tmp, target);
      } catch (IOException | RuntimeException e) {
        FileTrees.deleteTree(tmp);
        throw e;
      }
    }
    spec.commandLine().getOut().println("export: " + format + " in " + out
        + (format == Format.BOTH ? " (ONNX in " + out.resolve(ONNX_SUBDIR) + ")" : "")
        + (onlyFp32 ? "" : ": " + String.join(", ", dtypes.stream().map(d -> d + " " + d.fileName()).toList())));
    return 0;
  }

  private void writeSafetensors(HfModel m, Path dir, String runConfig) throws IOException {
    HfModel.save(dir, m.config(), m.tensors(), m.tokenizer(),
        runConfig == null ? Map.of() : Map.of("rlsr.run_config", runConfig));
    copyRunConfig(m.dir(), dir);
  }

  private void writeOnnx(HfModel m, Path dir, String runConfig, List<ExportDtype> dtypes) throws IOException {
    Files.createDirectories(dir);
    ObjectNode settings = Json.MAPPER.createObjectNode();
    settings.put("source", m.dir().toAbsolutePath().normalize().toString());
    settings.put("format", format.toString());
    settings.put("opset", OnnxPolicyExporter.OPSET);
    settings.put("logits", "all");
    settings.put("weights_dtype", "float32");
    if (format == Format.ONNX_ADAPTER) {
      settings.put("lora_r", m.adapter().lora().r());
    }
    LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
    metadata.put("rlsr.export", Json.MAPPER.writeValueAsString(settings));
    if (runConfig != null) {
      metadata.put("rlsr.run_config", runConfig);
    }
    if (format == Format.ONNX_ADAPTER) {
      OnnxPolicyExporter.writeModelWithAdapter(m.config(), m.adapter().lora(), m.baseTensors(), m.adapterTensors(),
          1, dir, metadata);
    } else {
      ObjectNode quantizeConfig = Json.MAPPER.createObjectNode();
      quantizeConfig.put("producer", "rlsr");
      ObjectNode files = quantizeConfig.putObject("files");
      for (ExportDtype d : dtypes) {
        StoredWeights stored = quantize.stored(m.config(), d);
        settings.put("weights_dtype", d == ExportDtype.FP32 ? "float32" : d.toString());
        metadata.put("rlsr.export", Json.MAPPER.writeValueAsString(settings));
        OnnxPolicyExporter.writeModel(stored, m.tensors(), dir.resolve(d.fileName()), metadata);
        files.set(d.fileName(), Json.MAPPER.valueToTree(stored.describe()));
      }
      if (!dtypes.equals(List.of(ExportDtype.FP32))) {
        Json.PRETTY.writeValue(dir.resolve(QUANTIZE_CONFIG).toFile(), quantizeConfig);
      }
    }
    Json.PRETTY.writeValue(dir.resolve(HfModel.CONFIG).toFile(), m.config().toJson());
    m.tokenizer().copyFilesTo(dir);
    Json.PRETTY.writeValue(dir.resolve(HfModel.GENERATION_CONFIG).toFile(), HfModel.generationConfig(m.config(), m.tokenizer()));
    copyRunConfig(m.dir(), dir);
  }

  private static String readRunConfig(Path modelDir) throws IOException {
    Path f = modelDir.resolve(Checkpoints.RUN_CONFIG);
    return Files.isRegularFile(f) ? Files.readString(f) : null;
  }

  private static void copyRunConfig(Path modelDir, Path dir) throws IOException {
    Path f = modelDir.resolve(Checkpoints.RUN_CONFIG);
    if (Files.isRegularFile(f)) {
      Files.copy(f, dir.resolve(Checkpoints.RUN_CONFIG), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Moves the finished temporary directory to {@code target}; an existing target is moved aside first, then deleted. */
  private static void replace(Path tmp, Path target) throws IOException {
    Path old = null;
    if (Files.exists(target)) {
      old = tmp.resolveSibling(tmp.getFileName() + ".old");
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (old != null) {
        Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
      }
      throw new RlsrException(target + ": cannot move the export into place: " + e.getMessage(), e);
    }
    if (old != null) {
      FileTrees.deleteTree(old);
    }
  }


}
