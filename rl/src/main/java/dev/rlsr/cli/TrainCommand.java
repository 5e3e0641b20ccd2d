// `rlsr train`: RLSR — GRPO with the supervised embedding reward — on a base model (RLSR) or an SFT output
// (SFT+RLSR). Options may come from --config FILE (YAML or JSON, keys = flag names); flags override the file.
package dev.rlsr.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.train.LrSchedule;
import dev.rlsr.policy.train.SftOptions;
import dev.rlsr.policy.train.SftTrainer;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.rl.LossType;
import dev.rlsr.rl.PositionLimits;
import dev.rlsr.rl.RlsrTrainer;
import dev.rlsr.rl.ScaleRewards;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"RLSR: for each prompt sample G completions (ONNX Runtime), reward each by the cosine of its "
        + "sentence embedding to the reference response, and update the policy with GRPO (TensorFlow).",
        "Defaults and their reasons: see the README and GrpoConfig."})
public final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--config", description = "YAML or JSON file of options (keys are flag names, e.g. num-generations: 8); flags given on the command line override it.")
  Path config;

  @Option(names = "--model", description = "Hugging Face model directory to align (required).")
  Path model;

  @Option(names = "--data", description = "JSONL of (prompt, reference response) pairs (required).")
  Path data;

  @Option(names = "--out", description = "Output directory (required); neither --model nor inside it. One run at a time (OUT/.rlsr.lock).")
  Path out;

  @Option(names = "--iterations", defaultValue = "100", description = "RL iterations (default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--prompts-per-iteration", defaultValue = "8", description = "Prompts P per iteration (default: ${DEFAULT-VALUE}).")
  int promptsPerIteration;

  @Option(names = "--num-generations", defaultValue = "8", description = "Completions G per prompt, the GRPO group; at least 2 (default: ${DEFAULT-VALUE}).")
  int numGenerations;

  @Option(names = "--max-prompt-length", defaultValue = "256", description = "Prompts keep their last N tokens (default: ${DEFAULT-VALUE}).")
  int maxPromptLength;

  @Option(names = "--max-completion-length", defaultValue = "128", description = "New tokens per completion; the longest prompt plus these must fit the model's max_position_embeddings (default: ${DEFAULT-VALUE}).")
  int maxCompletionLength;

  @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature, also applied to log-probs in the loss (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling; 1 = off (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--top-k", defaultValue = "0", description = "Top-k sampling; 0 = off (default: ${DEFAULT-VALUE}).")
  int topK;

  @Option(names = {"--learning-rate", "--lr"}, defaultValue = "1e-6", description = "AdamW learning rate (default: ${DEFAULT-VALUE}; small models want 1e-4..1e-3).")
  double learningRate;

  @Option(names = "--beta", defaultValue = "0.04", description = "Weight of the k3 KL to the frozen starting model; 0 skips the reference model (default: ${DEFAULT-VALUE}).")
  double beta;

  @Option(names = "--epsilon", defaultValue = "0.2", description = "Lower clip of the ratio, 1-epsilon (default: ${DEFAULT-VALUE}).")
  double epsilon;

  @Option(names = "--epsilon-high", description = "Upper clip of the ratio, 1+epsilon-high (default: --epsilon; DAPO uses 0.28).")
  Double epsilonHigh;

  @Option(names = "--loss-type", defaultValue = "dapo", converter = LossTypeConverter.class, description = "grpo, bnpo, dr_grpo or dapo (default: ${DEFAULT-VALUE}).")
  LossType lossType;

  @Option(names = "--scale-rewards", defaultValue = "group", converter = ScaleConverter.class, description = "group, batch or none (default: ${DEFAULT-VALUE}).")
  ScaleRewards scaleRewards;

  @Option(names = "--num-iterations", defaultValue = "1", description = "Optimizer passes over each batch of rollouts (default: ${DEFAULT-VALUE}).")
  int numIterations;

  @Option(names = "--mask-truncated-completions", arity = "0..1", defaultValue = "false", description = "Leave completions that hit the length limit out of the loss (default: ${DEFAULT-VALUE}).")
  boolean maskTruncatedCompletions;

  @Option(names = "--embedder", defaultValue = SentenceEmbedder.DEFAULT, description = "Reward encoder: all-minilm-l6-v2, e5-small-v2 or a sentence-transformers ONNX directory (default: ${DEFAULT-VALUE}).")
  String embedder;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of prompt order and sampling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--save-every", defaultValue = "25", description = "Checkpoint every N iterations and at the end (default: ${DEFAULT-VALUE}).")
  int saveEvery;

  @Option(names = "--save-total-limit", defaultValue = "2", description = "Checkpoints kept; 0 keeps all (default: ${DEFAULT-VALUE}).")
  int saveTotalLimit;

  @Option(names = "--micro-batch-size", defaultValue = "16", description = "Rows per TensorFlow forward/backward (default: ${DEFAULT-VALUE}).")
  int microBatchSize;

  @Option(names = "--generation-batch-size", defaultValue = "0", description = "Rows per ONNX Runtime sampling call, a multiple of --num-generations; 0 = all P*G (default: ${DEFAULT-VALUE}).")
  int generationBatchSize;

  @Option(names = "--weight-decay", defaultValue = "0.0", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "Gradient-norm clip; 0 disables (default: ${DEFAULT-VALUE}).")
  double maxGradNorm;

  @Option(names = "--warmup-steps", defaultValue = "0", description = "Learning-rate warm-up steps (default: ${DEFAULT-VALUE}).")
  long warmupSteps;

  @Option(names = "--schedule", defaultValue = "constant", description = "Learning rate after warm-up: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  LrSchedule.Kind schedule;

  @Option(names = "--is-correction", arity = "0..1", defaultValue = "true", description = "Truncated importance-sampling correction of the ONNX Runtime/TensorFlow log-prob gap (default: ${DEFAULT-VALUE}).")
  boolean isCorrection;

  @Option(names = "--is-cap", defaultValue = "2.0", description = "Cap of the importance-sampling weight (default: ${DEFAULT-VALUE}).")
  double isCap;

  @Option(names = "--log-completions", defaultValue = "8", description = "Completions per iteration written to completions.jsonl; 0 = none (default: ${DEFAULT-VALUE}).")
  int logCompletions;

  @Option(names = "--device", defaultValue = "cpu", description = "ONNX Runtime execution provider for rollouts: cpu or cuda, refused at once where this ONNX Runtime has no CUDA (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--resume", arity = "0..1", defaultValue = "false", description = "Continue from OUT/checkpoints/LATEST (and OUT/sft with --sft-steps); options that change the run (data, learning rate, schedule, iterations, seed, lengths, loss and RL settings, model) must match its run_config.json.")
  boolean resume;

  @Option(names = "--resume-override", arity = "0..1", defaultValue = "false", description = "With --resume: continue even when such options differ from the checkpoint's run config (the differences are printed).")
  boolean resumeOverride;

  @Option(names = "--sft-steps", defaultValue = "0", description = "SFT+RLSR in one command: first this many SFT steps on --data into OUT/sft, then RLSR from that model; 0 = no SFT phase (default: ${DEFAULT-VALUE}).")
  long sftSteps;

  @Option(names = "--sft-learning-rate", defaultValue = "2e-5", description = "Learning rate of the SFT phase, cosine schedule (default: ${DEFAULT-VALUE}).")
  double sftLearningRate;

  @Option(names = "--sft-batch-size", defaultValue = "8", description = "Batch size of the SFT phase (default: ${DEFAULT-VALUE}).")
  int sftBatchSize;

  @Option(names = "--sft-max-seq-len", description = "Longest prompt+response of the SFT phase, at most the model's max_position_embeddings (default: 1024, or that limit when smaller).")
  Integer sftMaxSeqLen;

  @Override
  public Integer call() throws Exception {
    if (config != null) {
      return rerunWithConfig();
    }
    if (model == null || data == null || out == null) {
      throw new RlsrException("--model, --data and --out are required (on the command line or in --config)");
    }
    if (sftSteps < 0) {
      throw new RlsrException("--sft-steps must be >= 0");
    }
    if (resumeOverride && !resume) {
      throw new RlsrException("--resume-override only applies with --resume");
    }
    RunGuard.checkOut(out, RunGuard.inputs("--model", model, null, null));
    GrpoConfig cfg = new GrpoConfig(model, data, out, iterations, promptsPerIteration, numGenerations, maxPromptLength,
        maxCompletionLength, temperature, topP, topK, learningRate, beta, epsilon,
        epsilonHigh == null ? epsilon : epsilonHigh, lossType, scaleRewards, numIterations, maskTruncatedCompletions,
        embedder, seed, saveEvery, saveTotalLimit, microBatchSize, generationBatchSize, weightDecay, maxGradNorm,
        warmupSteps, schedule, isCorrection, isCap, logCompletions, threads.threads, device, resume).validate();
    var examples = JsonlDataset.read(data);
    if (examples.isEmpty()) {
      throw new RlsrException(data + ": the dataset is empty (nothing to train on)");
    }
    SentenceEmbedder enc;
    try {
      enc = SentenceEmbedder.load(embedder, threads.threads);
    } catch (RuntimeException e) {
      throw new RlsrException("--embedder " + embedder + ": cannot load the reward encoder: " + e.getMessage(), e);
    }
    var err = spec.commandLine().getErr();
    try (enc) {
      ModelConfig mc = RunGuard.modelConfig(model);
      int sftSeqLen = RunGuard.seqLen(sftMaxSeqLen, 1024, mc, model.resolve("config.json"), "--sft-max-seq-len");
      try (Tokenizer tok = Tokenizer.load(model)) { // the lengths of the RLSR phase, checked before any phase runs
        PositionLimits.checkPromptPlusNew(mc, model, PositionLimits.longestPrompt(tok, examples, maxPromptLength),
            maxPromptLength, "--max-prompt-length", maxCompletionLength, "--max-completion-length");
      }
      Path sftOut = out.resolve("sft");
      SftOptions so = sftSteps == 0 ? null : new SftOptions(model, data, sftOut, 1, sftSteps, sftBatchSize, 1,
          sftLearningRate, LrSchedule.Kind.COSINE, 0, 0.0, maxGradNorm, sftSeqLen, seed, 0, 1, threads.threads, resume,
          false, 0).validate();
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
        EmbeddingReward reward = new EmbeddingReward(enc);
        var s = trainer.run(examples, reward::score);
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

  /**
   * Prepends the file's options (those not given as flags) to the original arguments and runs again. The file is read
   * strictly: a key given twice (also as {@code num_generations} and {@code num-generations}), a list, mapping or null
   * value, or anything after the document is refused naming the file and the key.
   */
  private int rerunWithConfig() {
    JsonNode node;
    try {
      byte[] bytes = Files.readAllBytes(config);
      node = config.toString().endsWith(".json") ? StrictJson.JSON.readTree(bytes) : StrictJson.YAML.readTree(bytes);
    } catch (JsonProcessingException e) {
      java.util.regex.Matcher dup = java.util.regex.Pattern.compile("^Duplicate field '(.*?)'")
          .matcher(e.getOriginalMessage() == null ? "" : e.getOriginalMessage());
      if (dup.find()) {
        throw new RlsrException(config + ": option \"" + dup.group(1) + "\" is given twice");
      }
      throw new RlsrException(config + ": not valid " + (config.toString().endsWith(".json") ? "JSON" : "YAML")
          + ": " + StrictJson.describe(e));
    } catch (IOException e) {
      throw new RlsrException(config + ": cannot read the config file: " + e.getMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new RlsrException(config + ": expected a mapping of option names to values");
    }
    CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
    List<String> args = new ArrayList<>();
    Map<String, String> seen = new java.util.HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      var e = it.next();
      String flag = "--" + e.getKey().replace('_', '-');
      OptionSpec opt = spec.findOption(flag);
      if (opt == null || flag.equals("--config")) {
        throw new RlsrException(config + ": unknown option \"" + e.getKey() + "\" (see rlsr train --help)");
      }
      String before = seen.put(opt.longestName(), e.getKey());
      if (before != null) {
        throw new RlsrException(config + ": option \"" + e.getKey() + "\" is given twice (also as \"" + before + "\")");
      }
      JsonNode v = e.getValue();
      if (!v.isValueNode() || v.isNull()) {
        throw new RlsrException(config + ": option \"" + e.getKey() + "\" must be a single value (a string, number"
            + " or boolean), got " + StrictJson.kind(v));
      }
      if (parsed.hasMatchedOption(opt)) {
        continue; // the command line wins
      }
      args.add(flag + "=" + v.asText());
    }
    List<String> original = parsed.originalArgs();
    int self = spec.parent() == null ? -1 : original.indexOf(spec.name()); // args after "train"
    args.addAll(original.subList(self + 1, original.size()));
    // drop --config from the re-run
    List<String> clean = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--config")) {
        i++;
      } else if (!a.startsWith("--config=")) {
        clean.add(a);
      }
    }
    CommandLine sub = new CommandLine(new TrainCommand());
    sub.setOut(spec.commandLine().getOut());
    sub.setErr(spec.commandLine().getErr());
    sub.setExecutionExceptionHandler(new ErrorHandler());
    sub.setCaseInsensitiveEnumValuesAllowed(true);
    return sub.execute(clean.toArray(String[]::new));
  }

  static final class LossTypeConverter implements CommandLine.ITypeConverter<LossType> {
    @Override
    public LossType convert(String v) {
      try {
        return LossType.valueOf(v.toUpperCase().replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("expected grpo, bnpo, dr_grpo or dapo, got '" + v + "'");
      }
    }
  }

  static final class ScaleConverter implements CommandLine.ITypeConverter<ScaleRewards> {
    @Override
    public ScaleRewards convert(String v) {
      try {
        return ScaleRewards.valueOf(v.toUpperCase());
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("expected group, batch or none, got '" + v + "'");
      }
    }
  }
}
