// A Hugging Face model directory: config.json, model.safetensors (or shards), tokenizer files, generation_config.json.
// Loading validates everything up front (the weights by their safetensors headers; their values are read on demand,
// tensor by tensor); saving streams the weights and writes files the way Hugging Face tools expect them.
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.MergedLora;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A loaded model directory. Its weights stay in the files: {@link #tensors} reads them one tensor at a time (what
 * every trainer, exporter and engine uses), {@link #weights} reads them all into memory on first use (small models
 * and tests only: 2 GB of float32 at 0.5B parameters).
 */
public final class HfModel implements AutoCloseable {
  public static final String CONFIG = "config.json";
  public static final String GENERATION_CONFIG = "generation_config.json";

  private final Path dir;
  private final ModelConfig config;
  private final AutoCloseable files; // the weight files (with an adapter: the adapter's and the base model)
  private final TensorSource tensors;
  private final Tokenizer tokenizer;
  private final boolean ownsTokenizer;
  private final PeftAdapter.Spec adapter;
  private final TensorSource baseTensors;
  private final TensorSource adapterTensors;
  private ModelWeights weights;

  private HfModel(Path dir, ModelConfig config, AutoCloseable files, TensorSource tensors, Tokenizer tokenizer,
      boolean ownsTokenizer, PeftAdapter.Spec adapter, TensorSource baseTensors, TensorSource adapterTensors) {
    this.dir = dir;
    this.config = config;
    this.files = files;
    this.tensors = tensors;
    this.tokenizer = tokenizer;
    this.ownsTokenizer = ownsTokenizer;
    this.adapter = adapter;
    this.baseTensors = baseTensors;
    this.adapterTensors = adapterTensors;
  }

  /**
   * Loads and validates a model directory; every refusal names the file and key. The safetensors headers are
   * checked against the layout config.json implies (every tensor present with its shape); no weight is read yet.
   * A LoRA adapter directory ({@link PeftAdapter#CONFIG}, written by rlsr or PEFT) loads its base model from
   * {@code base_model_name_or_path} and presents the merged weights W + (alpha / r) B A as its tensors, merged
   * tensor by tensor as they are read ({@link MergedLora}); config and tokenizer come from the base, the tokenizer
   * from the adapter directory when it has tokenizer.json.
   */
  public static HfModel load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new RlsrException(dir + ": model directory not found");
    }
    if (PeftAdapter.isAdapterDir(dir)) {
      return loadAdapter(dir);
    }
    ModelConfig config = ModelConfig.read(dir.resolve(CONFIG));
    Tokenizer tok = Tokenizer.load(dir);
    try {
      tok.validateAgainst(config, dir);
      String source = Files.isRegularFile(dir.resolve(Safetensors.SINGLE_FILE))
          ? dir.resolve(Safetensors.SINGLE_FILE).toString() : dir.resolve(Safetensors.INDEX_FILE).toString();
      SafetensorsSource files = SafetensorsSource.openModelDir(dir);
      try {
        return new HfModel(dir, config, files, ModelWeights.checkedLayout(config, files, source), tok, true, null,
            null, null);
      } catch (RuntimeException e) {
        files.close();
        throw e;
      }
    } catch (RuntimeException e) {
      tok.close();
      throw e;
    }
  }

  /** An adapter directory: its base loaded, the adapter's tensors opened and merged into the base's as they are read. */
  private static HfModel loadAdapter(Path dir) {
    PeftAdapter.Spec spec = PeftAdapter.readConfig(dir);
    if (PeftAdapter.isAdapterDir(spec.baseModel())) {
      throw new RlsrException(dir.resolve(PeftAdapter.CONFIG) + ": base_model_name_or_path " + spec.baseModel()
          + " is itself an adapter; rlsr loads an adapter on a whole base model only");
    }
    HfModel base = HfModel.load(spec.baseModel());
    PeftAdapter.Opened opened = null;
    Tokenizer own = null;
    try {
      opened = PeftAdapter.open(dir, base.config(), spec.lora());
      if (Files.isRegularFile(dir.resolve(Tokenizer.TOKENIZER_JSON))) {
        own = Tokenizer.load(dir);
        own.validateAgainst(base.config(), dir);
      }
      PeftAdapter.Opened file = opened;
      AutoCloseable closer = () -> {
        try {
          file.close();
        } finally {
          base.close();
        }
      };
      TensorSource merged = new MergedLora(base.config(), spec.lora(), base.tensors(), opened.tensors());
      return new HfModel(dir, base.config(), closer, merged, own != null ? own : base.tokenizer(), own != null, spec,
          base.tensors(), opened.tensors());
    } catch (RuntimeException e) {
      if (own != null) {
        own.close();
      }
      if (opened != null) {
        opened.close();
      }
      base.close();
      throw e;
    }
  }

  /** config.json of a model directory, or of an adapter directory's base model (read from its adapter_config.json). */
  public static Path configFile(Path dir) {
    return PeftAdapter.isAdapterDir(dir) ? PeftAdapter.readConfig(dir).baseModel().resolve(CONFIG) : dir.resolve(CONFIG);
  }

  public Path dir() {
    return dir;
  }

  /** The base model's own tensors: of an adapter directory the unmerged base, else {@link #tensors}. */
  public TensorSource baseTensors() {
    return adapter != null ? baseTensors : tensors;
  }

  /** An adapter directory's adapter in rlsr names ({@link dev.rlsr.policy.model.LoraConfig#layout}); null for a model. */
  public TensorSource adapterTensors() {
    return adapterTensors;
  }

  /** The adapter this directory holds (its base loaded from {@link PeftAdapter.Spec#baseModel}); null for a model. */
  public PeftAdapter.Spec adapter() {
    return adapter;
  }

  public ModelConfig config() {
    return config;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The weights in layout order, read from the files one tensor per read; valid until {@link #close}. */
  public TensorSource tensors() {
    return tensors;
  }

  /**
   * Every weight in memory, read on the first call and kept: for tests and small models. Trainers, exporters and
   * engines take {@link #tensors} instead, so a real model is never on the Java heap whole.
   */
  public synchronized ModelWeights weights() {
    if (weights == null) {
      weights = ModelWeights.read(config, tensors);
    }
    return weights;
  }

  /**
   * Writes a Hugging Face model directory: config.json, model.safetensors (fp32, HF names), the tokenizer files of
   * {@code tokenizerFrom}, generation_config.json. config.json is written last, so a directory cut short by a
   * crash is not mistaken for a model; still not atomic by itself: callers write into a fresh directory and move
   * it into place (see {@link Checkpoints}).
   *
   * @param metadata string metadata stored in the safetensors header (e.g. the resolved run config)
   */
  public static void save(Path dir, ModelWeights weights, Tokenizer tokenizerFrom, Map<String, String> metadata)
      throws IOException {
    save(dir, weights.config(), weights, tokenizerFrom, metadata);
  }

  /**
   * {@link #save(Path, ModelWeights, Tokenizer, Map)} streaming the weights from {@code weights} (the tensors of
   * {@code config}'s layout, in layout order) one tensor at a time.
   */
  public static void save(Path dir, ModelConfig config, TensorSource weights, Tokenizer tokenizerFrom,
      Map<String, String> metadata) throws IOException {
    Files.createDirectories(dir);
    java.util.LinkedHashMap<String, String> md = new java.util.LinkedHashMap<>();
    md.put("format", "pt"); // what transformers expects in safetensors metadata
    if (metadata != null) {
      md.putAll(metadata);
    }
    Safetensors.write(dir.resolve(Safetensors.SINGLE_FILE), ModelWeights.checkedLayout(config, weights, "weights to save"),
        Safetensors.DType.F32, md);
    tokenizerFrom.copyFilesTo(dir);
    Json.PRETTY.writeValue(dir.resolve(GENERATION_CONFIG).toFile(), generationConfig(config, tokenizerFrom));
    Json.PRETTY.writeValue(dir.resolve(CONFIG).toFile(), config.toJson());
  }

  /** generation_config.json: the source's when it has one, else built from config and tokenizer ids. */
  public static ObjectNode generationConfig(ModelConfig c, Tokenizer tok) throws IOException {
    Path src = tok.modelDir().resolve(GENERATION_CONFIG);
    if (Files.isRegularFile(src)) {
      return StrictJson.readObject(src); // copied as is; must be one JSON object
    }
    ObjectNode g = Json.MAPPER.createObjectNode();
    if (tok.bosId() >= 0) {
      g.put("bos_token_id", tok.bosId());
    }
    int[] eos = tok.eosIds();
    if (eos.length == 1) {
      g.put("eos_token_id", eos[0]);
    } else if (eos.length > 1) {
      var arr = g.putArray("eos_token_id");
      for (int e : eos) {
        arr.add(e);
      }
    }
    g.put("pad_token_id", tok.padId());
    g.put("transformers_version", "4.46.0");
    return g;
  }

  /** Closes the tokenizer and the weight files (of an adapter directory: its base model too). */
  @Override
  public void close() {
    try {
      if (ownsTokenizer) {
        tokenizer.close();
      }
    } finally {
      try {
        files.close();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
