// Every option of an RLSR run: effect, default and origin are written here once; the CLI flags are declared with them.
// Validation happens up front and each message names the flag and the fix.
package dev.rlsr.rl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.LoraRun;
import dev.rlsr.train.LrSchedule;
import java.nio.file.Path;
import java.util.Locale;
import java.util.List;
import java.util.Objects;

/**
 * The resolved options of one run, written into every checkpoint as run_config.json. Each option's default is one
 * {@code DEFAULT_*} constant below (or in {@link SamplingOptions} for the sampling flags): the {@link Builder} starts
 * from them, and the CLI's {@code rlsr train} declares its flags with them, so neither can drift from the other. Build
 * with {@link #builder()}; set only what differs from the defaults.
 *
 * @param model                    {@code --model}: Hugging Face model to align (a base model for RLSR, an SFT output for SFT+RLSR)
 * @param data                     {@code --data}: JSONL (prompt, reference response) pairs; the reference is only used by the reward
 * @param out                      {@code --out}: final HF model, checkpoints/, metrics.jsonl, completions.jsonl, plots
 * @param iterations               {@code --iterations}: RL iterations (rollout + update rounds)
 * @param promptsPerIteration      {@code --prompts-per-iteration}: P prompts sampled per iteration
 * @param numGenerations           {@code --num-generations}: G completions per prompt, the GRPO group (at least 2)
 * @param maxPromptLength          {@code --max-prompt-length}: prompts keep their last this-many tokens
 * @param maxCompletionLength      {@code --max-completion-length}: new tokens per completion at most; the longest
 *                                 prompt (after the cut) plus this must fit the model's max_position_embeddings
 * @param temperature              {@code --temperature}: sampling temperature; log-probs in the loss use the same (as TRL)
 * @param topP                     {@code --top-p}: nucleus sampling (1.0 = off)
 * @param topK                     {@code --top-k}: top-k sampling (0 = off)
 * @param learningRate             {@code --learning-rate}: AdamW learning rate
 * @param beta                     {@code --beta}: weight of the k3 KL to the frozen starting model (0 skips the reference model)
 * @param epsilon                  {@code --epsilon}: lower clip ε_low of the ratio
 * @param epsilonHigh              {@code --epsilon-high}: upper clip ε_high (default = epsilon; DAPO's clip-higher uses 0.28)
 * @param lossType                 {@code --loss-type}: aggregation of the per-token losses
 * @param scaleRewards             {@code --scale-rewards}: advantage scaling
 * @param numIterations            {@code --num-iterations}: optimizer passes μ over one batch of rollouts (above 1 the ratio and clipping matter)
 * @param maskTruncatedCompletions {@code --mask-truncated-completions}: exclude completions that hit the length limit from the loss (DAPO)
 * @param embedder                 {@code --embedder}: reward encoder, built-in name or sentence-transformers ONNX directory
 * @param seed                     {@code --seed}: prompt order and sampling; each rollout row samples with its own seed derived from (seed,
 *                                 iteration, prompt slot, completion index), whatever engine, batch or task computes it
 * @param saveEvery                {@code --save-every}: checkpoint every N iterations, and always at the end
 * @param saveTotalLimit           {@code --save-total-limit}: checkpoints kept; 0 keeps all
 * @param microBatchSize           {@code --micro-batch-size}: rows per TensorFlow forward/backward; P*G rows are accumulated
 * @param generationBatchSize      {@code --generation-batch-size}: rows per ONNX Runtime sampling call, whole groups only (0 = all P*G at once)
 * @param weightDecay              {@code --weight-decay}: AdamW decoupled weight decay
 * @param maxGradNorm              {@code --max-grad-norm}: global gradient-norm clip
 * @param warmupSteps              {@code --warmup-steps}: linear learning-rate warm-up in optimizer steps
 * @param schedule                 {@code --schedule}: learning rate after warm-up
 * @param isCorrection             {@code --is-correction}: multiply the policy term by min(exp(ℓ_old − ℓ_sampler), cap), TRL's truncated
 *                                 importance-sampling correction for the ONNX Runtime / TensorFlow log-prob gap
 * @param isCap                    {@code --is-cap}: the cap C of that weight (TRL's {@code vllm_importance_sampling_cap})
 * @param rolloutDtype             {@code --rollout-dtype}: how the rollout session stores the policy's weights: fp32, or
 *                                 quantized as {@code rlsr export --dtype q8|q4} stores them, re-quantized from the float32
 *                                 weights at every sync; the update stays float32 in TensorFlow and the importance-sampling
 *                                 correction covers the sampler's mismatch
 * @param isMode                   {@code --is-mode}: TRL's {@code vllm_importance_sampling_mode}: the ratio exp(ℓ_old −
 *                                 ℓ_sampler) per token or per sequence (exp of the sum over its tokens), and above the cap
 *                                 truncated to it or masked to 0
 * @param logCompletions           {@code --log-completions}: rows per iteration written to completions.jsonl; 0 = none
 * @param threads                  {@code --threads}: intra-op threads of TensorFlow and ONNX Runtime (default: cores)
 * @param device                   {@code --device}: ONNX Runtime execution provider for rollouts (default {@link Device#DEFAULT});
 *                                 cuda is refused up front when this ONNX Runtime has no CUDA provider
 * @param resume                   {@code --resume}: continue from out/checkpoints/LATEST, whose recorded run config must match
 *                                 (differences are refused unless {@code --resume-override})
 * @param lora                     {@code --lora-r} and the rest: train a LoRA adapter on the frozen model (the KL
 *                                 reference is that model: the same graph with the adapter off; checkpoints and the
 *                                 final model are PEFT adapter directories); null = full fine-tuning
 * @param embedderPrompt           {@code --embedder-prompt}: the reward encoder's prompt (a name or the text; null: its own)
 * @param rolloutEngine            {@code --rollout-engine}: where rollouts and rewards run: {@code local} (this process) or
 *                                 {@code spark} (Spark executors, module rl/spark; the update stays here). Both give the
 *                                 same completions for the same seed, so a run may resume on either
 * @param sparkMaster              {@code --spark-master}: the Spark master URL ({@code local[N]}, {@code spark://host:7077});
 *                                 null: the one {@code spark-submit} sets ({@code spark.master}), else {@code local[*]}
 * @param rolloutPartitions        {@code --rollout-partitions}: Spark partitions (tasks) of an iteration's units; 0 = one
 *                                 per unit, at most Spark's default parallelism
 * @param sparkWeightsDir          {@code --spark-weights-dir}: a directory every executor reads at the same path (a shared
 *                                 file system; on one machine any directory): each version of the weights is written
 *                                 there as a safetensors file and only its path is broadcast, so neither the driver's
 *                                 nor an executor's heap holds the weights; null: the weights themselves are the Spark
 *                                 broadcast variable (no shared storage needed; twice the float32 weights on the
 *                                 driver's heap and on each executor's)
 */
public record GrpoConfig(
    Path model,
    Path data,
    Path out,
    int iterations,
    int promptsPerIteration,
    int numGenerations,
    int maxPromptLength,
    int maxCompletionLength,
    double temperature,
    double topP,
    int topK,
    double learningRate,
    double beta,
    double epsilon,
    double epsilonHigh,
    LossType lossType,
    ScaleRewards scaleRewards,
    int numIterations,
    boolean maskTruncatedCompletions,
    String embedder,
    long seed,
    int saveEvery,
    int saveTotalLimit,
    int microBatchSize,
    int generationBatchSize,
    double weightDecay,
    double maxGradNorm,
    long warmupSteps,
    LrSchedule.Kind schedule,
    boolean isCorrection,
    double isCap,
    int logCompletions,
    int threads,
    Device device,
    boolean resume,
    LoraConfig lora,
    ExportDtype rolloutDtype,
    IsMode isMode,
    String embedderPrompt,
    String rolloutEngine,
    String sparkMaster,
    int rolloutPartitions,
    Path sparkWeightsDir) {

  /** TRL's importance-sampling modes ({@code vllm_importance_sampling_mode}); flags take token-truncate or token_truncate. */
  public enum IsMode {
    TOKEN_TRUNCATE, TOKEN_MASK, SEQUENCE_TRUNCATE, SEQUENCE_MASK;

    public boolean sequence() {
      return this == SEQUENCE_TRUNCATE || this == SEQUENCE_MASK;
    }

    public boolean mask() {
      return this == TOKEN_MASK || this == SEQUENCE_MASK;
    }

    @Override
    public String toString() {
      return dev.rlsr.policy.util.FlagChoices.name(this);
    }
  }

  // The defaults, each written once. Strings, because picocli's defaultValue takes them as they are (and prints
  // them so in --help); the builder parses the same strings.
  public static final String DEFAULT_ITERATIONS = "100";
  /** P: P×G = 64 completions per update. */
  public static final String DEFAULT_PROMPTS_PER_ITERATION = "8";
  /** G: TRL's default; enough spread in a group for group-relative advantages. */
  public static final String DEFAULT_NUM_GENERATIONS = "8";
  public static final String DEFAULT_MAX_PROMPT_LENGTH = "256";
  /** Instruction answers are short; long tails cost rollout time. */
  public static final String DEFAULT_MAX_COMPLETION_LENGTH = "128";
  /** TRL's GRPO default for billion-parameter models; small models want more. */
  public static final String DEFAULT_LEARNING_RATE = "1e-6";
  /** The KL weight of the GRPO paper (DeepSeekMath). */
  public static final String DEFAULT_BETA = "0.04";
  /** PPO/GRPO clip range; {@code --epsilon-high} defaults to it. */
  public static final String DEFAULT_EPSILON = "0.2";
  /** Token-level normalisation, TRL's default: no length bias. */
  public static final String DEFAULT_LOSS_TYPE = "dapo";
  /** The original GRPO. */
  public static final String DEFAULT_SCALE_REWARDS = "group";
  public static final String DEFAULT_NUM_ITERATIONS = "1";
  public static final String DEFAULT_MASK_TRUNCATED_COMPLETIONS = "false";
  public static final String DEFAULT_EMBEDDER = SentenceEmbedder.DEFAULT;
  public static final String DEFAULT_SEED = "42";
  public static final String DEFAULT_SAVE_EVERY = "25";
  public static final String DEFAULT_SAVE_TOTAL_LIMIT = "2";
  public static final String DEFAULT_MICRO_BATCH_SIZE = "16";
  public static final String DEFAULT_GENERATION_BATCH_SIZE = "0";
  public static final String DEFAULT_WEIGHT_DECAY = "0.0";
  public static final String DEFAULT_MAX_GRAD_NORM = "1.0";
  public static final String DEFAULT_WARMUP_STEPS = "0";
  /** Constant, so reward curves stay comparable between runs of different lengths. */
  public static final String DEFAULT_SCHEDULE = "constant";
  /** Float32 rollouts, as trained. */
  public static final String DEFAULT_ROLLOUT_DTYPE = "fp32";
  /** Per-token truncation: rlsr's correction before the modes existed (TRL's default is sequence-truncate). */
  public static final String DEFAULT_IS_MODE = "token-truncate";
  /** TRL's truncated importance-sampling correction, on. */
  public static final String DEFAULT_IS_CORRECTION = "true";
  /** Yao et al. 2025. */
  public static final String DEFAULT_IS_CAP = "2.0";
  public static final String DEFAULT_LOG_COMPLETIONS = "8";
  /** Rollouts in this process: nothing to set up. */
  public static final String DEFAULT_ROLLOUT_ENGINE = "local";
  public static final String DEFAULT_ROLLOUT_PARTITIONS = "0";
  /** The {@code --rollout-engine} values. */
  public static final List<String> ROLLOUT_ENGINES = List.of("local", "spark");

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this config's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.model = model;
    b.data = data;
    b.out = out;
    b.iterations = iterations;
    b.promptsPerIteration = promptsPerIteration;
    b.numGenerations = numGenerations;
    b.maxPromptLength = maxPromptLength;
    b.maxCompletionLength = maxCompletionLength;
    b.temperature = temperature;
    b.topP = topP;
    b.topK = topK;
    b.learningRate = learningRate;
    b.beta = beta;
    b.epsilon = epsilon;
    b.epsilonHigh = epsilonHigh;
    b.lossType = lossType;
    b.scaleRewards = scaleRewards;
    b.numIterations = numIterations;
    b.maskTruncatedCompletions = maskTruncatedCompletions;
    b.embedder = embedder;
    b.seed = seed;
    b.saveEvery = saveEvery;
    b.saveTotalLimit = saveTotalLimit;
    b.microBatchSize = microBatchSize;
    b.generationBatchSize = generationBatchSize;
    b.weightDecay = weightDecay;
    b.maxGradNorm = maxGradNorm;
    b.warmupSteps = warmupSteps;
    b.schedule = schedule;
    b.isCorrection = isCorrection;
    b.isCap = isCap;
    b.logCompletions = logCompletions;
    b.threads = threads;
    b.device = device;
    b.resume = resume;
    b.lora = lora;
    b.rolloutDtype = rolloutDtype;
    b.isMode = isMode;
    b.embedderPrompt = embedderPrompt;
    b.rolloutEngine = rolloutEngine;
    b.sparkMaster = sparkMaster;
    b.rolloutPartitions = rolloutPartitions;
    b.sparkWeightsDir = sparkWeightsDir;
    return b;
  }

  public GrpoConfig validate() {
    check(numGenerations >= 2, "--num-generations must be at least 2: GRPO compares completions within a group "
        + "(got " + numGenerations + "; use 4-16)");
    check(promptsPerIteration >= 1, "--prompts-per-iteration must be at least 1");
    check(iterations >= 1, "--iterations must be at least 1");
    check(maxPromptLength >= 1, "--max-prompt-length must be at least 1");
    SamplingOptions.check("--max-completion-length", maxCompletionLength, temperature, topK, topP);
    check(learningRate > 0, "--learning-rate must be > 0");
    check(beta >= 0, "--beta must be >= 0 (0 disables the KL term and the reference model)");
    check(epsilon > 0 && epsilon < 1, "--epsilon must be in (0, 1)");
    check(epsilonHigh > 0, "--epsilon-high must be > 0");
    check(numIterations >= 1, "--num-iterations must be at least 1");
    check(microBatchSize >= 1, "--micro-batch-size must be at least 1");
    check(generationBatchSize >= 0, "--generation-batch-size must be >= 0 (0 = all P*G rows at once)");
    check(generationBatchSize == 0 || generationBatchSize % numGenerations == 0,
        "--generation-batch-size " + generationBatchSize + " cannot hold whole groups of --num-generations "
            + numGenerations + ": use a multiple of " + numGenerations);
    check(saveEvery >= 0, "--save-every must be >= 0");
    check(saveTotalLimit >= 0, "--save-total-limit must be >= 0 (0 keeps every checkpoint)");
    check(logCompletions >= 0, "--log-completions must be >= 0 (0 writes no completions), got " + logCompletions);
    check(isCap >= 1, "--is-cap must be >= 1");
    check(rolloutDtype == ExportDtype.FP32 || rolloutDtype.quantized(), "--rollout-dtype takes fp32, q8 or q4, got "
        + rolloutDtype);
    check(lora == null || rolloutDtype == ExportDtype.FP32, "--rollout-dtype " + rolloutDtype + " with --lora-r: "
        + "the LoRA rollout graph takes the adapter over float32 base weights; use --rollout-dtype fp32");
    check(threads >= 1, "--threads must be at least 1");
    check(ROLLOUT_ENGINES.contains(rolloutEngine), "--rollout-engine takes local or spark, got " + rolloutEngine);
    check(rolloutPartitions >= 0, "--rollout-partitions must be >= 0 (0 = one per rollout unit), got "
        + rolloutPartitions);
    check(spark() || (sparkMaster == null && rolloutPartitions == 0 && sparkWeightsDir == null), "--spark-master, "
        + "--rollout-partitions and --spark-weights-dir apply to --rollout-engine spark; add it, or drop them");
    check(sparkWeightsDir == null || !java.nio.file.Files.exists(sparkWeightsDir)
        || java.nio.file.Files.isDirectory(sparkWeightsDir), "--spark-weights-dir " + sparkWeightsDir
        + " is a file: give a directory every executor can read (it is created when missing)");
    device.requireAvailable();
    return this;
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new RlsrException(message);
    }
  }

  /** The same run starting from another model (SFT+RLSR in one command starts from its SFT phase's output). */
  public GrpoConfig withModel(Path start) {
    return toBuilder().model(start).build();
  }

  /**
   * Rows per ONNX Runtime sampling call, the rows of a {@code RolloutUnit}. With 0: all P*G rows on the local engine,
   * one prompt's G rows (a Spark task's natural unit) on the Spark engine.
   */
  public int rolloutRows() {
    int all = rowsPerIteration();
    return generationBatchSize == 0 ? (spark() ? numGenerations : all) : Math.min(generationBatchSize, all);
  }

  /** Rollouts on Spark executors ({@code --rollout-engine spark}). */
  public boolean spark() {
    return rolloutEngine.equals("spark");
  }

  /** Rows per iteration: P * G. */
  public int rowsPerIteration() {
    return promptsPerIteration * numGenerations;
  }

  public ObjectNode toJson() {
    ObjectNode n = Json.SNAKE.valueToTree(this);
    n.put("model", model.toString());
    n.put("data", data.toString());
    n.put("out", out.toString());
    n.put("loss_type", lossType.name().toLowerCase());
    n.put("scale_rewards", scaleRewards.name().toLowerCase());
    n.put("schedule", schedule.name().toLowerCase());
    n.put("device", device.flag());
    n.put("recipe", "rlsr");
    LoraRun.record(n, lora);
    // recorded when not the default, so checkpoints written before these options existed still resume
    n.remove(List.of("rollout_dtype", "is_mode", "embedder_prompt"));
    if (embedderPrompt != null) {
      n.put("embedder_prompt", embedderPrompt);
    }
    if (rolloutDtype != ExportDtype.FP32) {
      n.put("rollout_dtype", rolloutDtype.toString());
    }
    if (isMode != IsMode.TOKEN_TRUNCATE) {
      n.put("is_mode", isMode.toString());
    }
    // where rollouts ran: recorded, free on resume (both engines give the same completions)
    n.remove(List.of("spark_master", "rollout_partitions", "spark_weights_dir"));
    if (spark()) {
      n.put("spark_master", sparkMaster == null ? "" : sparkMaster);
      n.put("rollout_partitions", rolloutPartitions);
      n.put("spark_weights_dir", sparkWeightsDir == null ? "" : sparkWeightsDir.toString());
    }
    return n;
  }

  /** Starts from the defaults; {@link #build} needs model, data and out. */
  public static final class Builder {
    private Path model;
    private Path data;
    private Path out;
    private int iterations = Integer.parseInt(DEFAULT_ITERATIONS);
    private int promptsPerIteration = Integer.parseInt(DEFAULT_PROMPTS_PER_ITERATION);
    private int numGenerations = Integer.parseInt(DEFAULT_NUM_GENERATIONS);
    private int maxPromptLength = Integer.parseInt(DEFAULT_MAX_PROMPT_LENGTH);
    private int maxCompletionLength = Integer.parseInt(DEFAULT_MAX_COMPLETION_LENGTH);
    private double temperature = Double.parseDouble(SamplingOptions.DEFAULT_TEMPERATURE);
    private double topP = Double.parseDouble(SamplingOptions.DEFAULT_TOP_P);
    private int topK = Integer.parseInt(SamplingOptions.DEFAULT_TOP_K);
    private double learningRate = Double.parseDouble(DEFAULT_LEARNING_RATE);
    private double beta = Double.parseDouble(DEFAULT_BETA);
    private double epsilon = Double.parseDouble(DEFAULT_EPSILON);
    private Double epsilonHigh; // null: the same as epsilon
    private LossType lossType = LossType.parse(DEFAULT_LOSS_TYPE);
    private ScaleRewards scaleRewards = ScaleRewards.parse(DEFAULT_SCALE_REWARDS);
    private int numIterations = Integer.parseInt(DEFAULT_NUM_ITERATIONS);
    private boolean maskTruncatedCompletions = Boolean.parseBoolean(DEFAULT_MASK_TRUNCATED_COMPLETIONS);
    private String embedder = DEFAULT_EMBEDDER;
    private long seed = Long.parseLong(DEFAULT_SEED);
    private int saveEvery = Integer.parseInt(DEFAULT_SAVE_EVERY);
    private int saveTotalLimit = Integer.parseInt(DEFAULT_SAVE_TOTAL_LIMIT);
    private int microBatchSize = Integer.parseInt(DEFAULT_MICRO_BATCH_SIZE);
    private int generationBatchSize = Integer.parseInt(DEFAULT_GENERATION_BATCH_SIZE);
    private double weightDecay = Double.parseDouble(DEFAULT_WEIGHT_DECAY);
    private double maxGradNorm = Double.parseDouble(DEFAULT_MAX_GRAD_NORM);
    private long warmupSteps = Long.parseLong(DEFAULT_WARMUP_STEPS);
    private LrSchedule.Kind schedule = LrSchedule.Kind.valueOf(DEFAULT_SCHEDULE.toUpperCase(Locale.ROOT));
    private boolean isCorrection = Boolean.parseBoolean(DEFAULT_IS_CORRECTION);
    private double isCap = Double.parseDouble(DEFAULT_IS_CAP);
    private ExportDtype rolloutDtype = ExportDtype.FP32;
    private IsMode isMode = IsMode.TOKEN_TRUNCATE;
    private String embedderPrompt;
    private int logCompletions = Integer.parseInt(DEFAULT_LOG_COMPLETIONS);
    private int threads = Runtime.getRuntime().availableProcessors();
    private Device device = Device.parse(Device.DEFAULT);
    private boolean resume;
    private LoraConfig lora;
    private String rolloutEngine = DEFAULT_ROLLOUT_ENGINE;
    private String sparkMaster;
    private int rolloutPartitions = Integer.parseInt(DEFAULT_ROLLOUT_PARTITIONS);
    private Path sparkWeightsDir;

    private Builder() {}

    public Builder model(Path v) { model = v; return this; }
    public Builder data(Path v) { data = v; return this; }
    public Builder out(Path v) { out = v; return this; }
    public Builder iterations(int v) { iterations = v; return this; }
    public Builder promptsPerIteration(int v) { promptsPerIteration = v; return this; }
    public Builder numGenerations(int v) { numGenerations = v; return this; }
    public Builder maxPromptLength(int v) { maxPromptLength = v; return this; }
    public Builder maxCompletionLength(int v) { maxCompletionLength = v; return this; }
    public Builder temperature(double v) { temperature = v; return this; }
    public Builder topP(double v) { topP = v; return this; }
    public Builder topK(int v) { topK = v; return this; }
    public Builder learningRate(double v) { learningRate = v; return this; }
    public Builder beta(double v) { beta = v; return this; }
    public Builder epsilon(double v) { epsilon = v; return this; }
    /** The upper clip; null (the default) follows {@link #epsilon}. */
    public Builder epsilonHigh(Double v) { epsilonHigh = v; return this; }
    public Builder lossType(LossType v) { lossType = v; return this; }
    public Builder scaleRewards(ScaleRewards v) { scaleRewards = v; return this; }
    public Builder numIterations(int v) { numIterations = v; return this; }
    public Builder maskTruncatedCompletions(boolean v) { maskTruncatedCompletions = v; return this; }
    public Builder embedder(String v) { embedder = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    public Builder saveEvery(int v) { saveEvery = v; return this; }
    public Builder saveTotalLimit(int v) { saveTotalLimit = v; return this; }
    public Builder microBatchSize(int v) { microBatchSize = v; return this; }
    public Builder generationBatchSize(int v) { generationBatchSize = v; return this; }
    public Builder weightDecay(double v) { weightDecay = v; return this; }
    public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
    public Builder warmupSteps(long v) { warmupSteps = v; return this; }
    public Builder schedule(LrSchedule.Kind v) { schedule = v; return this; }
    public Builder isCorrection(boolean v) { isCorrection = v; return this; }
    public Builder isCap(double v) { isCap = v; return this; }
    public Builder logCompletions(int v) { logCompletions = v; return this; }
    public Builder threads(int v) { threads = v; return this; }
    public Builder device(Device v) { device = v; return this; }
    public Builder resume(boolean v) { resume = v; return this; }
    public Builder lora(LoraConfig v) { lora = v; return this; }
    public Builder rolloutDtype(ExportDtype v) { rolloutDtype = v; return this; }
    public Builder isMode(IsMode v) { isMode = v; return this; }
    public Builder embedderPrompt(String v) { embedderPrompt = v; return this; }
    public Builder rolloutEngine(String v) { rolloutEngine = v; return this; }
    /** null: spark-submit's master, else local[*]. */
    public Builder sparkMaster(String v) { sparkMaster = v; return this; }
    public Builder rolloutPartitions(int v) { rolloutPartitions = v; return this; }
    /** null: the weights go out as a Spark broadcast variable. */
    public Builder sparkWeightsDir(Path v) { sparkWeightsDir = v; return this; }

    /** The config (not yet validated: {@link GrpoConfig#validate} refuses impossible settings naming the flag). */
    public GrpoConfig build() {
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(data, "data");
      Objects.requireNonNull(out, "out");
      return new GrpoConfig(model, data, out, iterations, promptsPerIteration, numGenerations, maxPromptLength,
          maxCompletionLength, temperature, topP, topK, learningRate, beta, epsilon,
          epsilonHigh == null ? epsilon : epsilonHigh, lossType, scaleRewards, numIterations, maskTruncatedCompletions,
          embedder, seed, saveEvery, saveTotalLimit, microBatchSize, generationBatchSize, weightDecay, maxGradNorm,
          warmupSteps, schedule, isCorrection, isCap, logCompletions, threads, Objects.requireNonNull(device, "device"),
          resume, lora, Objects.requireNonNull(rolloutDtype, "rolloutDtype"), Objects.requireNonNull(isMode, "isMode"), embedderPrompt,
          Objects.requireNonNull(rolloutEngine, "rolloutEngine"), sparkMaster, rolloutPartitions, sparkWeightsDir);
    }
  }
}
