// `rlsr sft`: supervised fine-tuning of a Hugging Face checkpoint on a JSONL dataset (masked NLL on responses).
package dev.rlsr.cli;

import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.SftOptions;
import dev.rlsr.train.SftTrainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
    defaultValueProvider = SftCommand.Defaults.class,
    description = "Supervised fine-tuning: next-token loss on the response tokens of (prompt, response) pairs.")
public final class SftCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;
  @Mixin RunPathsMixin paths;

  @Option(names = "--epochs", defaultValue = SftOptions.DEFAULT_EPOCHS, description = "Passes over the data (default: ${DEFAULT-VALUE}); ignored with --max-steps.")
  int epochs;

  @Option(names = "--max-steps", defaultValue = SftOptions.DEFAULT_MAX_STEPS, description = "Optimizer steps; 0 derives them from --epochs (default: ${DEFAULT-VALUE}).")
  long maxSteps;

  @Option(names = "--batch-size", defaultValue = SftOptions.DEFAULT_BATCH_SIZE, description = "Examples per micro-batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--grad-accum", defaultValue = SftOptions.DEFAULT_GRAD_ACCUM, description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
  int gradAccum;

  @Mixin OptimizerMixin optimizer;

  @Option(names = "--max-seq-len", description = "Longest prompt+response in tokens, at most the model's max_position_embeddings (default: " + SftOptions.DEFAULT_MAX_SEQ_LEN + ", or that limit when smaller); longer responses are cut, over-long prompts dropped.")
  Integer maxSeqLen;

  @Option(names = "--seed", defaultValue = SftOptions.DEFAULT_SEED, description = "Seed of the data order (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--save-every", defaultValue = SftOptions.DEFAULT_SAVE_EVERY, description = "Checkpoint every N steps; 0 only at the end (default: ${DEFAULT-VALUE}).")
  long saveEvery;

  @Option(names = "--save-total-limit", defaultValue = SftOptions.DEFAULT_SAVE_TOTAL_LIMIT, description = "Checkpoints kept in OUT/checkpoints; 0 keeps all (default: ${DEFAULT-VALUE}).")
  int saveTotalLimit;

  @Option(names = "--resume", description = "Continue from OUT/checkpoints/LATEST; options that change the run (data, batch size, learning rate, schedule, steps, seed, lengths, model) must match its run_config.json.")
  boolean resume;

  @Option(names = "--resume-override", description = "With --resume: continue even when such options differ from the checkpoint's run config (the differences are printed).")
  boolean resumeOverride;

  @Option(names = "--stop-after", defaultValue = SftOptions.DEFAULT_STOP_AFTER, description = "Stop with a checkpoint after this step, keeping the schedule of the whole run (continue later with --resume); 0 runs to the end (default: ${DEFAULT-VALUE}).")
  long stopAfter;

  /** The optimizer defaults of an SFT run. */
  static final class Defaults extends OptionDefaults {
    Defaults() {
      super(OptimizerMixin.SFT);
    }
  }

  @Override
  public Integer call() {
    var log = spec.commandLine().getErr();
    Path model = paths.model;
    Path data = paths.data;
    Path out = paths.out;
    RunGuard.checkResumeOverride(resume, resumeOverride);
    RunGuard.checkOut(out, RunGuard.inputs("--model", model, null, null));
    int seqLen = RunGuard.seqLen(maxSeqLen, SftOptions.DEFAULT_MAX_SEQ_LEN, RunGuard.modelConfig(model),
        model.resolve("config.json"), "--max-seq-len");
    SftOptions o = optimizer.applyTo(SftOptions.builder()).model(model).data(data).out(out).epochs(epochs)
        .maxSteps(maxSteps).batchSize(batchSize).gradAccum(gradAccum).maxSeqLen(seqLen).seed(seed)
        .saveEvery(saveEvery).saveTotalLimit(saveTotalLimit).threads(threads.threads).resume(resume)
        .stopAfter(stopAfter).build().validate();
    var examples = JsonlDataset.read(data);
    if (examples.isEmpty()) {
      throw new RlsrException(data + ": the dataset is empty");
    }
    SftTrainer.Summary s;
    try (var lock = RunGuard.lock(out, spec, log)) {
      s = new SftTrainer(o, log).resumeOverride(resumeOverride).run(examples);
    }
    if (s.stepsRun() == 0) {
      spec.commandLine().getOut().printf("sft: already complete at step %d; model in %s%n", s.steps(), s.finalModel());
    } else {
      spec.commandLine().getOut().printf("sft: %d steps, loss %s -> %s, %.0f tokens/s, %d skipped; model in %s%n",
          s.steps(), RunGuard.num(s.firstLoss()), RunGuard.num(s.lastLoss()), s.tokensPerSecond(), s.skippedSteps(),
          s.finalModel());
    }
    return 0;
  }
}
