// The demo's base model: a small Llama pretrained from scratch on the demo corpus (corpus -> BPE tokenizer ->
// random init -> next-token pretraining). Uses the copy shipped under models/demo-base, else a cache, else builds.
package dev.rlsr.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.pretrain.ScratchModel;
import dev.rlsr.train.SftOptions;
import dev.rlsr.train.SftTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * The model directory holds the usual Hugging Face files plus {@link #RECIPE_FILE} (the {@link Recipe} it was
 * built with) and {@code metrics.jsonl} (the pretraining loss curve). A directory counts as a usable build only
 * when its recipe equals the recipe asked for, so changing {@link Recipe#DEFAULT} invalidates stale copies.
 */
public final class DemoBaseModel {
  /** Where the repository ships the prebuilt default, relative to the repository root. */
  public static final Path SHIPPED = Path.of("models", "demo-base");
  public static final String RECIPE_FILE = "demo_recipe.json";
  /** Files copied from the pretraining output into the model directory. */
  static final List<String> MODEL_FILES = List.of(HfModel.CONFIG, "model.safetensors", Tokenizer.TOKENIZER_JSON,
      Tokenizer.TOKENIZER_CONFIG_JSON, HfModel.GENERATION_CONFIG, "metrics.jsonl");

  /**
   * Everything that determines the base model.
   *
   * @param dataVersion     {@link DemoData#VERSION} of the generators that wrote the corpus and dataset
   * @param seed            seed of the corpus, the dataset the tokenizer also learns from, the init and the data order
   * @param corpusDocuments pretraining documents (3-6 sentences each)
   * @param merges          BPE merges of the tokenizer
   * @param size            architecture
   * @param steps           pretraining optimizer steps
   * @param batchSize       documents per step
   * @param learningRate    peak AdamW learning rate (cosine decay after warm-up)
   * @param warmupSteps     linear warm-up steps
   * @param weightDecay     decoupled weight decay
   * @param maxSeqLen       longest document in tokens (longer ones are cut)
   */
  public record Recipe(int dataVersion, long seed, int corpusDocuments, int merges, ScratchModel.Size size,
      long steps, int batchSize, double learningRate, long warmupSteps, double weightDecay, int maxSeqLen) {
    /** The recipe of the shipped model (about 1.8M parameters; see models/README.md): the builder's values. */
    public static final Recipe DEFAULT = new Builder().build();

    public ObjectNode toJson() {
      return Json.SNAKE.valueToTree(this);
    }

    /** A builder holding this recipe's values. */
    public Builder toBuilder() {
      Builder b = new Builder();
      b.dataVersion = dataVersion;
      b.seed = seed;
      b.corpusDocuments = corpusDocuments;
      b.merges = merges;
      b.size = size;
      b.steps = steps;
      b.batchSize = batchSize;
      b.learningRate = learningRate;
      b.warmupSteps = warmupSteps;
      b.weightDecay = weightDecay;
      b.maxSeqLen = maxSeqLen;
      return b;
    }

    /**
     * Starts from the shipped recipe. Its values are its own, not the defaults of {@code rlsr pretrain}: changing
     * them invalidates the shipped model.
     */
    public static final class Builder {
      private int dataVersion = DemoData.VERSION;
      private long seed = DemoData.DEFAULT_SEED;
      private int corpusDocuments = 20000;
      private int merges = DemoTokenizer.MERGES;
      private ScratchModel.Size size = new ScratchModel.Size(192, 512, 4, 6, 2, 256);
      private long steps = 900;
      private int batchSize = 16;
      private double learningRate = 3e-3;
      private long warmupSteps = 40;
      private double weightDecay = 0.01;
      private int maxSeqLen = 128;

      private Builder() {}

      public Builder seed(long v) { seed = v; return this; }
      public Builder corpusDocuments(int v) { corpusDocuments = v; return this; }
      public Builder size(ScratchModel.Size v) { size = v; return this; }
      public Builder steps(long v) { steps = v; return this; }

      public Recipe build() {
        return new Recipe(dataVersion, seed, corpusDocuments, merges, size, steps, batchSize, learningRate,
            warmupSteps, weightDecay, maxSeqLen);
      }
    }
  }

  private DemoBaseModel() {}

  /**
   * The base model directory to use: the shipped {@link #SHIPPED} copy when it was built with
   * {@link Recipe#DEFAULT}, else {@code cacheDir} when it holds such a build, else a fresh build written to
   * {@code cacheDir} (a few minutes on two cores).
   */
  public static Path ensure(Path cacheDir, PrintWriter log) {
    return ensure(cacheDir, Recipe.DEFAULT, Runtime.getRuntime().availableProcessors(), log);
  }

  public static Path ensure(Path cacheDir, Recipe recipe, int threads, PrintWriter log) {
    Optional<Path> shipped = shipped();
    if (shipped.isPresent() && builtWith(shipped.get(), recipe)) {
      log.println("demo base model: " + shipped.get());
      return shipped.get();
    }
    if (builtWith(cacheDir, recipe)) {
      log.println("demo base model: " + cacheDir + " (cached)");
      return cacheDir;
    }
    log.println("demo base model: building into " + cacheDir + " (corpus, tokenizer, pretraining)");
    return build(cacheDir, recipe, threads, log);
  }

  /** True when {@code dir} holds every model file and a recipe file equal to {@code recipe}. */
  public static boolean builtWith(Path dir, Recipe recipe) {
    for (String f : MODEL_FILES) {
      if (!Files.isRegularFile(dir.resolve(f))) {
        return false;
      }
    }
    try {
      JsonNode stored = Json.MAPPER.readTree(dir.resolve(RECIPE_FILE).toFile());
      // compare as parsed JSON on both sides (a long written and read back is an int node)
      return Json.MAPPER.readTree(recipe.toJson().toString()).equals(stored);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The shipped model directory: {@link #SHIPPED} under the first ancestor of the working directory or of the
   * location rlsr's classes were loaded from that has one.
   */
  public static Optional<Path> shipped() {
    List<Path> starts = new java.util.ArrayList<>();
    starts.add(Path.of("").toAbsolutePath());
    try {
      var src = DemoBaseModel.class.getProtectionDomain().getCodeSource();
      if (src != null) {
        starts.add(Path.of(src.getLocation().toURI()).toAbsolutePath());
      }
    } catch (java.net.URISyntaxException | SecurityException | IllegalArgumentException e) {
      // no usable code location: the working directory is still searched
    }
    for (Path start : starts) {
      for (Path p = start; p != null; p = p.getParent()) {
        Path candidate = p.resolve(SHIPPED);
        if (Files.isRegularFile(candidate.resolve(HfModel.CONFIG))) {
          return Optional.of(candidate);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Builds the base model into {@code dir} (replacing it): writes the corpus and the dataset the tokenizer learns
   * from, trains the tokenizer, creates the random model and pretrains it with {@link SftTrainer#runTexts}, the
   * code path of {@code rlsr pretrain}. Work files go to a sibling directory that is deleted afterwards; the
   * result is moved into place only when complete.
   */
  public static Path build(Path dir, Recipe recipe, int threads, PrintWriter log) {
    Path parent = dir.toAbsolutePath().getParent();
    Path work = parent.resolve("." + dir.getFileName() + ".build-" + System.nanoTime());
    try {
      Files.createDirectories(work);
      long t0 = System.nanoTime();
      List<String> corpus = DemoCorpus.generate(recipe.seed(), recipe.corpusDocuments());
      Path corpusFile = work.resolve("corpus.txt");
      DemoCorpus.write(corpusFile, corpus);
      DemoData data = DemoData.generate(recipe.seed());
      Path tokDir = work.resolve("tokenizer");
      DemoTokenizer.train(DemoTokenizer.trainingTexts(corpus, data), recipe.merges()).write(tokDir);
      ModelConfig config;
      try (Tokenizer tok = Tokenizer.load(tokDir)) {
        config = ScratchModel.config(tok, recipe.size());
        log.printf("demo base model: corpus %d documents, tokenizer %d ids (%.1f s)%n", corpus.size(),
            tok.vocabSize(), (System.nanoTime() - t0) / 1e9);
      }
      Path init = ScratchModel.create(tokDir, config, recipe.seed(), work.resolve("init"));
      Path out = work.resolve("pretrain");
      SftOptions o = SftOptions.pretrainBuilder().model(init).data(corpusFile).out(out).maxSteps(recipe.steps())
          .batchSize(recipe.batchSize()).learningRate(recipe.learningRate()).warmupSteps(recipe.warmupSteps())
          .weightDecay(recipe.weightDecay()).maxSeqLen(recipe.maxSeqLen()).seed(recipe.seed()).saveTotalLimit(1)
          .threads(threads).build();
      SftTrainer.Summary s = new SftTrainer(o, log).runTexts(corpus);
      log.printf("demo base model: pretrained %d steps, loss %.3f -> %.3f, %.0f tokens/s%n", s.steps(),
          s.firstLoss(), s.lastLoss(), s.tokensPerSecond());
      Path staged = work.resolve("model");
      Files.createDirectories(staged);
      for (String f : MODEL_FILES) {
        Files.copy(out.resolve(f), staged.resolve(f));
      }
      Json.PRETTY.writeValue(staged.resolve(RECIPE_FILE).toFile(), recipe.toJson());
      if (Files.exists(dir)) {
        FileTrees.deleteTree(dir);
      }
      Files.createDirectories(parent);
      Files.move(staged, dir, StandardCopyOption.ATOMIC_MOVE);
      return dir;
    } catch (IOException e) {
      throw new RlsrException(dir + ": cannot build the demo base model: " + e.getMessage(), e);
    } finally {
      try {
        FileTrees.deleteTree(work);
      } catch (IOException ignored) {
        // best effort: a leftover hidden work directory is never read
      }
    }
  }

}
