// `rlsr train`: RLSR — GRPO with the supervised embedding reward — on a base model (RLSR) or an SFT output
// (SFT+RLSR). Options may come from --config FILE (YAML or JSON, keys = flag names); flags override the file.
package dev.rlsr.cli;

import dev.rlsr.export.ExportDtype;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.rl.LossType;
import dev.rlsr.rl.PositionLimits;
import dev.rlsr.rl.RewardFunction;
import dev.rlsr.rl.RlsrTrainer;
import dev.rlsr.rl.ScaleRewards;
import dev.rlsr.train.MemoryPlan;
import dev.rlsr.train.Phases;
import dev.rlsr.train.SftOptions;
import dev.rlsr.train.SftTrainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    defaultValueProvider = TrainCommand.Defaults.class,
    description = {"RLSR: for each prompt sample G completions (ONNX Runtime), reward each by the cosine of its "
        + "sentence embedding to the reference response, and update the policy with GRPO (TensorFlow).",
        "Defaults and their reasons: see the README and GrpoConfig."})
public final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = ConfigFileDefaults.CONFIG, description = "YAML or JSON file of options (keys are flag names, e.g. num-generations: 8); flags given on the command line override it.")
  Path config;

  @Mixin RunPathsMixin paths;

  @Option(names = "--iterations", defaultValue = GrpoConfig.DEFAULT_ITERATIONS, description = "RL iterations (default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--prompts-per-iteration", defaultValue = GrpoConfig.DEFAULT_PROMPTS_PER_ITERATION, description = "Prompts P per iteration (default: ${DEFAULT-VALUE}).")
  int promptsPerIteration;

  @Option(names = "--num-generations", defaultValue = GrpoConfig.DEFAULT_NUM_GENERATIONS, description = "Completions G per prompt, the GRPO group; at least 2 (default: ${DEFAULT-VALUE}).")
  int numGenerations;

  @Option(names = "--max-prompt-length", defaultValue = GrpoConfig.DEFAULT_MAX_PROMPT_LENGTH, description = "Prompts keep their last N tokens (default: ${DEFAULT-VALUE}).")
  int maxPromptLength;

  @Option(names = "--max-completion-length", defaultValue = GrpoConfig.DEFAULT_MAX_COMPLETION_LENGTH, description = "New tokens per completion; the longest prompt plus these must fit the model's max_position_embeddings (default: ${DEFAULT-VALUE}).")
  int maxCompletionLength;

  @Mixin SamplingMixin sampling;

  @Mixin OptimizerMixin optimizer;

  @Mixin LoraMixin lora;

  @Option(names = "--beta", defaultValue = GrpoConfig.DEFAULT_BETA, description = "Weight of the k3 KL to the frozen starting model; 0 skips the reference model (default: ${DEFAULT-VALUE}).")
  double beta;

  @Option(names = "--epsilon", defaultValue = GrpoConfig.DEFAULT_EPSILON, description = "Lower clip of the ratio, 1-epsilon (default: ${DEFAULT-VALUE}).")
  double epsilon;

  @Option(names = "--epsilon-high", description = "Upper clip of the ratio, 1+epsilon-high (default: --epsilon; DAPO uses 0.28).")
  Double epsilonHigh;

  @Option(names = "--loss-type", defaultValue = GrpoConfig.DEFAULT_LOSS_TYPE, converter = LossTypeConverter.class, description = "grpo, bnpo, dr_grpo or dapo (default: ${DEFAULT-VALUE}).")
  LossType lossType;

  @Option(names = "--scale-rewards", defaultValue = GrpoConfig.DEFAULT_SCALE_REWARDS, converter = ScaleConverter.class, description = "group, batch or none (default: ${DEFAULT-VALUE}).")
  ScaleRewards scaleRewards;

  @Option(names = "--num-iterations", defaultValue = GrpoConfig.DEFAULT_NUM_ITERATIONS, description = "Optimizer passes over each batch of rollouts (default: ${DEFAULT-VALUE}).")
  int numIterations;

  @Option(names = "--mask-truncated-completions", arity = "0..1", defaultValue = GrpoConfig.DEFAULT_MASK_TRUNCATED_COMPLETIONS, description = "Leave completions that hit the length limit out of the loss (default: ${DEFAULT-VALUE}).")
  boolean maskTruncatedCompletions;

  @Mixin EmbedderMixin reward;

  @Option(names = "--seed", defaultValue = GrpoConfig.DEFAULT_SEED, description = "Seed of prompt order and sampling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--save-every", defaultValue = GrpoConfig.DEFAULT_SAVE_EVERY, description = "Checkpoint every N iterations and at the end (default: ${DEFAULT-VALUE}).")
  int saveEvery;

  @Option(names = "--save-total-limit", defaultValue = GrpoConfig.DEFAULT_SAVE_TOTAL_LIMIT, description = "Checkpoints kept; 0 keeps all (default: ${DEFAULT-VALUE}).")
  int saveTotalLimit;

  @Option(names = "--micro-batch-size", defaultValue = GrpoConfig.DEFAULT_MICRO_BATCH_SIZE, description = "Rows per TensorFlow forward/backward (default: ${DEFAULT-VALUE}).")
  int microBatchSize;

  @Option(names = "--generation-batch-size", defaultValue = GrpoConfig.DEFAULT_GENERATION_BATCH_SIZE, description = "Rows per ONNX Runtime sampling call, a multiple of --num-generations; 0 = all P*G (default: ${DEFAULT-VALUE}).")
  int generationBatchSize;

  @Option(names = "--is-correction", arity = "0..1", defaultValue = GrpoConfig.DEFAULT_IS_CORRECTION, description = "Truncated importance-sampling correction of the ONNX Runtime/TensorFlow log-prob gap (default: ${DEFAULT-VALUE}).")
  boolean isCorrection;

  @Option(names = "--is-cap", defaultValue = GrpoConfig.DEFAULT_IS_CAP, description = "Cap of the importance-sampling weight (default: ${DEFAULT-VALUE}).")
  double isCap;

  @Option(names = "--is-mode", defaultValue = GrpoConfig.DEFAULT_IS_MODE, converter = FlagConverters.IsMode.class, description = "TRL's vllm_importance_sampling_mode: the ratio per token or per sequence, above --is-cap truncated or masked: token-truncate, token-mask, sequence-truncate or sequence-mask (underscores too) (default: ${DEFAULT-VALUE}).")
  GrpoConfig.IsMode isMode;

  @Option(names = "--rollout-dtype", defaultValue = GrpoConfig.DEFAULT_ROLLOUT_DTYPE, converter = FlagConverters.RolloutDtype.class, description = "Weights of the rollout session: fp32, q8 or q4 as rlsr export --dtype stores them, re-quantized at every sync; the update stays float32 and --is-correction covers the mismatch (default: ${DEFAULT-VALUE}).")
  ExportDtype rolloutDtype;

  @Option(names = "--rollout-engine", defaultValue = GrpoConfig.DEFAULT_ROLLOUT_ENGINE, description = "Where rollouts and rewards run: local (this process) or spark (Spark executors; the update stays here). The same seed gives the same completions on both, and --resume continues on either (default: ${DEFAULT-VALUE}).")
  String rolloutEngine;

  @Option(names = "--spark-master", paramLabel = "URL", description = "With --rollout-engine spark: the Spark master, local[N] or spark://HOST:7077 (default: the one spark-submit sets, else local[*]).")
  String sparkMaster;

  @Option(names = "--rollout-partitions", defaultValue = GrpoConfig.DEFAULT_ROLLOUT_PARTITIONS, description = "With --rollout-engine spark: Spark tasks per iteration; 0 = one per rollout unit (--generation-batch-size rows; with 0 there, one prompt's G rows), at most Spark's default parallelism (default: ${DEFAULT-VALUE}).")
  int rolloutPartitions;

  @Option(names = "--spark-weights-dir", paramLabel = "DIR", description = "With --rollout-engine spark: a directory every executor reads at this same path (shared storage; on one machine any directory). Each iteration's weights are written there and only the path is broadcast, so no heap holds them (default: none, the weights themselves are the Spark broadcast).")
  Path sparkWeightsDir;

  @Option(names = "--log-completions", defaultValue = GrpoConfig.DEFAULT_LOG_COMPLETIONS, description = "Completions per iteration written to completions.jsonl; 0 = none (default: ${DEFAULT-VALUE}).")
  int logCompletions;

  @Mixin DeviceMixin deviceOption;

  @Mixin MemoryLimitMixin memory;

  @Option(names = "--resume", arity = "0..1", defaultValue = "false", description = "Continue from OUT/checkpoints/LATEST (and OUT/sft with --sft-steps); options that change the run (data, learning rate, schedule, iterations, seed, lengths, loss and RL settings, model) must match its run_config.json.")
  boolean resume;

  @Option(names = "--resume-override", arity = "0..1", defaultValue = "false", description = "With --resume: continue even when such options differ from the checkpoint's run config (the differences are printed).")
  boolean resumeOverride;

  @Option(names = "--sft-steps", defaultValue = "0", description = "SFT+RLSR in one command: first this many SFT steps on --data into OUT/sft, then RLSR from that model; 0 = no SFT phase (default: ${DEFAULT-VALUE}).")
  long sftSteps;

  @Option(names = "--sft-learning-rate", defaultValue = SftOptions.DEFAULT_LEARNING_RATE, description = "Learning rate of the SFT phase, " + SftOptions.DEFAULT_SCHEDULE + " schedule (default: ${DEFAULT-VALUE}).")
  double sftLearningRate;

  @Option(names = "--sft-batch-size", defaultValue = SftOptions.DEFAULT_BATCH_SIZE, description = "Batch size of the SFT phase (default: ${DEFAULT-VALUE}).")
  int sftBatchSize;

  @Option(names = "--sft-max-seq-len", description = "Longest prompt+response of the SFT phase, at most the model's max_position_embeddings (default: " + SftOptions.DEFAULT_MAX_SEQ_LEN + ", or that limit when smaller).")
  Integer sftMaxSeqLen;

  /** The --config file, then the optimizer defaults of an RLSR run. */
  static final class Defaults extends ConfigFileDefaults {
    Defaults() {
      super(OptimizerMixin.RLSR);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (config != null) { // every key of the file is checked, also when the command line gave all it sets
      ((ConfigFileDefaults) spec.defaultValueProvider()).load(config, spec);
    }
    Path model = paths.model;
    Path data = paths.data;
    Path out = paths.out;
    if (sftSteps < 0) {
      throw new RlsrException("--sft-steps must be >= 0");
    }
    RunGuard.checkResumeOverride(resume, resumeOverride);
    RunGuard.checkOut(out, RunGuard.inputs("--model", model, null, null));
    GrpoConfig cfg = optimizer.applyTo(sampling.applyTo(GrpoConfig.builder())).model(model).data(data).out(out)
        .iterations(iterations).promptsPerIteration(promptsPerIteration).numGenerations(numGenerations)
        .maxPromptLength(maxPromptLength).maxCompletionLength(maxCompletionLength).beta(beta).epsilon(epsilon)
        .epsilonHigh(epsilonHigh).lossType(lossType).scaleRewards(scaleRewards).numIterations(numIterations)
        .maskTruncatedCompletions(maskTruncatedCompletions).embedder(reward.embedder).embedderPrompt(reward.prompt).seed(seed).saveEvery(saveEvery)
        .saveTotalLimit(saveTotalLimit).microBatchSize(microBatchSize).generationBatchSize(generationBatchSize)
        .isCorrection(isCorrection).isCap(isCap).isMode(isMode).rolloutDtype(rolloutDtype)
        .rolloutEngine(rolloutEngine).sparkMaster(sparkMaster).rolloutPartitions(rolloutPartitions)
        .sparkWeightsDir(sparkWeightsDir)
        .logCompletions(logCompletions).threads(threads.threads)
        .device(deviceOption.device).resume(resume).lora(lora.config()).build().validate();
    if (cfg.spark()) { // before the SFT phase or any loading: the engine's module must be on the class path
      dev.rlsr.rl.rollout.RolloutStages.require(cfg.rolloutEngine());
    }
    ModelConfig planned = RunGuard.modelConfig(model);
    long embedder = cfg.spark() ? 0 : MemoryGuard.embedderBytes(reward.embedder); // on Spark: on the executors
    List<MemoryPlan> plans = new ArrayList<>(List.of(MemoryGuard.plan(planned, MemoryPlan.rlsr(cfg, embedder))));
    if (sftSteps > 0) { // the SFT phase runs with the reward encoder already loaded
      plans.add(MemoryGuard.plan(planned, new MemoryPlan.Run("train", sftBatchSize, "--sft-batch-size",
          RunGuard.seqLen(sftMaxSeqLen, SftOptions.DEFAULT_MAX_SEQ_LEN, planned, model.resolve("config.json"),
              "--sft-max-seq-len"), "--sft-max-seq-len", 1, false, null, embedder, cfg.lora())));
    }
    MemoryGuard.check("train", plans, memory, spec.commandLine().getErr(), MemoryGuard.roots(out, "sft"));
    var examples = JsonlDataset.read(data);
    if (examples.isEmpty()) {
      throw new RlsrException(data + ": the dataset is empty (nothing to train on)");
    }
    SentenceEmbedder enc = rewardEncoder(cfg);
    var err = spec.commandLine().getErr();
    try (enc) {
      ModelConfig mc = RunGuard.modelConfig(model);
      int sftSeqLen = RunGuard.seqLen(sftMaxSeqLen, SftOptions.DEFAULT_MAX_SEQ_LEN, mc, model.resolve("config.json"),
          "--sft-max-seq-len");
      try (Tokenizer tok = Tokenizer.load(RunGuard.tokenizerDir(model))) { // the lengths of the RLSR phase, checked before any phase runs
        PositionLimits.checkPromptPlusNew(mc, model, PositionLimits.longestPrompt(tok, examples, maxPromptLength),
            maxPromptLength, "--max-prompt-length", maxCompletionLength, "--max-completion-length");
      }
      Path sftOut = out.resolve("sft");
      // the SFT phase: SFT's defaults (cosine, no warm-up or weight decay), the RLSR run's clip, seed and threads
      SftOptions so = sftSteps == 0 ? null : SftOptions.builder().model(model).data(data).out(sftOut)
          .maxSteps(sftSteps).batchSize(sftBatchSize).learningRate(sftLearningRate).maxGradNorm(optimizer.maxGradNorm)
          .maxSeqLen(sftSeqLen).seed(seed).saveTotalLimit(1).threads(threads.threads).resume(resume).lora(cfg.lora())
          .build()
          .validate();
      GrpoConfig rl = sftSteps == 0 ? cfg : cfg.withModel(sftOut);
      try (var lock = RunGuard.lock(out, spec, err)) {
        // the RLSR phase's checkpoints are checked before the SFT phase writes anything
        var latest = new Checkpoints(out).forRun(resume);
        RlsrTrainer trainer = new RlsrTrainer(rl, err).resumeOverride(resumeOverride);
        if (latest.isPresent()) {
          Checkpoints.verifyRunConfig(latest.get(), trainer.runConfig(), resumeOverride, null);
        }
        if (so != null) { // the paper's best recipe in one command: SFT into OUT/sft, then RLSR from that model
          var s = new SftTrainer(so, err).resumeOverride(resumeOverride).run(examples);
          if (s.stepsRun() == 0) {
            err.printf("SFT phase: already complete (%d steps); RLSR starts from %s%n", s.steps(), sftOut);
          } else {
            err.printf("SFT phase: %d steps, loss %s -> %s; RLSR starts from %s%n", s.steps(),
                RunGuard.num(s.firstLoss()), RunGuard.num(s.lastLoss()), sftOut);
          }
        }
        // on Spark each executor scores with its own encoder of --embedder
        RewardFunction score = enc == null ? (c, r) -> {
          throw new IllegalStateException("the Spark engine scores on its executors");
        } : new EmbeddingReward(enc)::score;
        var s = trainer.run(examples, score);
        if (s.iterationsRun() == 0) {
          spec.commandLine().getOut().printf("rlsr: already complete at iteration %d; model in %s%n", s.iterations(),
              s.out());
        } else {
          spec.commandLine().getOut().printf("rlsr: %d iterations, reward %s -> %s, %d skipped steps; model in %s%n",
              s.iterations(), RunGuard.num(s.firstReward()), RunGuard.num(s.lastReward()), s.skippedSteps(), s.out());
        }
      }
    }
    return 0;
  }

  /** The reward encoder, loaded here; null on Spark, where the executors load it (the name or directory is checked). */
  private SentenceEmbedder rewardEncoder(GrpoConfig cfg) {
    try {
      if (cfg.spark()) {
        SentenceEmbedder.checkNamed(reward.embedder);
        return null;
      }
      new Phases(spec.commandLine().getErr()).begin("loading the reward encoder " + reward.embedder);
      return reward.load(threads.threads);
    } catch (RuntimeException e) {
      throw new RlsrException("--embedder " + reward.embedder + ": cannot load the reward encoder: " + e.getMessage(), e);
    }
  }

  static final class LossTypeConverter implements CommandLine.ITypeConverter<LossType> {
    @Override
    public LossType convert(String v) {
      try {
        return LossType.parse(v);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("expected grpo, bnpo, dr_grpo or dapo, got '" + v + "'");
      }
    }
  }

  static final class ScaleConverter implements CommandLine.ITypeConverter<ScaleRewards> {
    @Override
    public ScaleRewards convert(String v) {
      try {
        return ScaleRewards.parse(v);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("expected group, batch or none, got '" + v + "'");
      }
    }
  }
}
