// `rlsr pretrain`: next-token training on raw text, from an existing model or from a new random Llama built for a
// tokenizer (the SFT loop with the loss on every token and no prompt template).
package dev.rlsr.cli;

import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.pretrain.ScratchModel;
import dev.rlsr.pretrain.TextCorpus;
import dev.rlsr.train.MemoryPlan;
import dev.rlsr.train.SftOptions;
import dev.rlsr.train.SftTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
    defaultValueProvider = PretrainCommand.Defaults.class,
    description = {"Pretraining: next-token loss on every token of raw text documents (one per line of --corpus).",
        "Starts from --model, or from a new random Llama for --tokenizer written to OUT/init (size flags or"
            + " --init-config)."})
public final class PretrainCommand implements Callable<Integer> {
  /** Where a model created from scratch is written inside --out. */
  public static final String INIT_DIR = "init";

  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--corpus", required = true, description = "UTF-8 text file, one document per line (blank lines skipped).")
  Path corpus;

  @Option(names = "--out", required = true, description = "Output directory: final model, checkpoints/, metrics.jsonl (and init/ when starting from scratch); neither --model/--tokenizer nor inside them. One run at a time (OUT/.rlsr.lock).")
  Path out;

  @Option(names = "--model", description = "Continue pretraining this Hugging Face model directory (instead of starting from scratch).")
  Path model;

  @Option(names = "--tokenizer", description = "From scratch: directory with tokenizer.json (and tokenizer_config.json naming eos_token).")
  Path tokenizer;

  @Option(names = "--init-config", description = "From scratch: a config.json to build the random model from (instead of the size flags; its vocab_size must cover the tokenizer).")
  Path initConfig;

  @Option(names = "--hidden-size", defaultValue = "192", description = "From scratch: model width (default: ${DEFAULT-VALUE}).")
  int hiddenSize;

  @Option(names = "--intermediate-size", defaultValue = "512", description = "From scratch: SwiGLU inner width (default: ${DEFAULT-VALUE}).")
  int intermediateSize;

  @Option(names = "--layers", defaultValue = "4", description = "From scratch: decoder layers (default: ${DEFAULT-VALUE}).")
  int layers;

  @Option(names = "--heads", defaultValue = "6", description = "From scratch: attention heads (default: ${DEFAULT-VALUE}).")
  int heads;

  @Option(names = "--kv-heads", defaultValue = "2", description = "From scratch: key/value heads, dividing --heads (default: ${DEFAULT-VALUE}).")
  int kvHeads;

  @Option(names = "--max-positions", defaultValue = "256", description = "From scratch: max_position_embeddings (default: ${DEFAULT-VALUE}).")
  int maxPositions;

  @Option(names = "--init-seed", defaultValue = "0", description = "From scratch: seed of the random weights (default: ${DEFAULT-VALUE}).")
  long initSeed;

  @Mixin SftLoopMixin loop;

  @Mixin OptimizerMixin optimizer;

  @Mixin MemoryLimitMixin memory;

  @Option(names = "--max-seq-len", description = "Longest document in tokens, at most the model's max_position_embeddings; longer ones are cut (default: " + SftOptions.PRETRAIN_MAX_SEQ_LEN + ", or that limit when smaller).")
  Integer maxSeqLen;

  /** The optimizer defaults of a pretraining run. */
  static final class Defaults extends OptionDefaults {
    Defaults() {
      super(OptimizerMixin.PRETRAIN, SftLoopMixin.PRETRAIN);
    }
  }

  @Override
  public Integer call() {
    var log = spec.commandLine().getErr();
    if (model != null && (tokenizer != null || initConfig != null)) {
      throw new RlsrException("--model continues an existing model; --tokenizer and --init-config are for starting"
          + " from scratch: give one or the other");
    }
    RunGuard.checkResumeOverride(loop.resume, loop.resumeOverride);
        if (model == null && tokenizer == null) {
      throw new RlsrException("pretrain needs --model DIR (continue a model) or --tokenizer DIR (start from scratch)");
    }
    List<String> docs = TextCorpus.read(corpus);
    RunGuard.checkOut(out, RunGuard.inputs("--model", model, null, null));
    RunGuard.checkNotSame(out, "--tokenizer", tokenizer);
    int seqLen;
    Path init = out.resolve(INIT_DIR);
    ModelConfig planned; // the model the run trains, for its memory plan
    if (model != null) {
      planned = RunGuard.modelConfig(model);
      seqLen = RunGuard.seqLen(maxSeqLen, SftOptions.PRETRAIN_MAX_SEQ_LEN, planned, model.resolve("config.json"),
          "--max-seq-len");
    } else if (loop.resume && Files.isRegularFile(init.resolve("model.safetensors"))) {
      planned = RunGuard.modelConfig(init);
      seqLen = RunGuard.seqLen(maxSeqLen, SftOptions.PRETRAIN_MAX_SEQ_LEN, planned, init.resolve("config.json"),
          "--max-seq-len");
    } else if (initConfig != null) {
      planned = ModelConfig.read(initConfig);
      seqLen = RunGuard.seqLen(maxSeqLen, SftOptions.PRETRAIN_MAX_SEQ_LEN, planned, initConfig, "--max-seq-len");
    } else {
      if (maxSeqLen != null && maxSeqLen > maxPositions) {
        throw new RlsrException("--max-seq-len " + maxSeqLen + " exceeds --max-positions " + maxPositions
            + " (the new model's max_position_embeddings): use --max-seq-len " + maxPositions + " or less");
      }
      seqLen = maxSeqLen != null ? maxSeqLen : Math.min(SftOptions.PRETRAIN_MAX_SEQ_LEN, maxPositions);
      planned = scratchConfig();
    }
    SftOptions o = loop.applyTo(optimizer.applyTo(SftOptions.pretrainBuilder())).model(model != null ? model : init)
        .data(corpus).out(out).maxSeqLen(seqLen).threads(threads.threads).build().validate();
    MemoryGuard.check("pretrain", List.of(MemoryGuard.plan(planned, MemoryPlan.sft("pretrain", o, "--batch-size",
        "--max-seq-len", 0))), memory, log, MemoryGuard.roots(out));
    SftTrainer.Summary s;
    try (var lock = RunGuard.lock(out, spec, log)) {
      if (model == null) {
        initModel(log);
      }
      s = new SftTrainer(o, log).resumeOverride(loop.resumeOverride).runTexts(docs);
    }
    if (s.stepsRun() == 0) {
      spec.commandLine().getOut().printf("pretrain: already complete at step %d; model in %s%n", s.steps(), s.finalModel());
    } else {
      spec.commandLine().getOut().printf("pretrain: %d steps, loss %s -> %s, %.0f tokens/s, %d skipped; model in %s%n",
          s.steps(), RunGuard.num(s.firstLoss()), RunGuard.num(s.lastLoss()), s.tokensPerSecond(), s.skippedSteps(),
          s.finalModel());
    }
    return 0;
  }

  /** The config of a new random model from --tokenizer and the size flags (reads only the tokenizer). */
  private ModelConfig scratchConfig() {
    try (Tokenizer tok = Tokenizer.load(tokenizer)) {
      return ScratchModel.config(tok,
          new ScratchModel.Size(hiddenSize, intermediateSize, layers, heads, kvHeads, maxPositions));
    }
  }

  /** OUT/init: reused when resuming, otherwise (re)created from --tokenizer and the size flags or --init-config. */
  private Path initModel(java.io.PrintWriter log) {
    if (tokenizer == null) {
      throw new RlsrException("pretrain needs --model DIR (continue a model) or --tokenizer DIR (start from scratch)");
    }
    Path init = out.resolve(INIT_DIR);
    if (loop.resume && Files.isRegularFile(init.resolve("model.safetensors"))) {
      return init;
    }
    new Checkpoints(out).forRun(loop.resume); // refuse before replacing the init of an earlier run
    ModelConfig config = initConfig != null ? ModelConfig.read(initConfig) : scratchConfig();
    ScratchModel.create(tokenizer, config, initSeed, init);
    log.printf("pretrain: new %s model in %s (vocab %d, hidden %d, %d layers)%n", config.modelType(), init,
        config.vocabSize(), config.hiddenSize(), config.numLayers());
    return init;
  }
}
