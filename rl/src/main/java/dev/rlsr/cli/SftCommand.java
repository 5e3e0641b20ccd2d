// `rlsr sft`: supervised fine-tuning of a Hugging Face checkpoint on a JSONL dataset (masked NLL on responses).
package dev.rlsr.cli;

import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.train.LrSchedule;
import dev.rlsr.policy.train.SftOptions;
import dev.rlsr.policy.train.SftTrainer;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Supervised fine-tuning: next-token loss on the response tokens of (prompt, response) pairs.")
public final class SftCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--model", required = true, description = "Hugging Face model directory (config.json, model.safetensors, tokenizer.json).")
  Path model;

  @Option(names = "--data", required = true, description = "JSONL: {\"prompt\",\"response\"}, {\"instruction\",\"input\",\"output\"} or {\"messages\":[...]}.")
  Path data;

  @Option(names = "--out", required = true, description = "Output directory: final model, checkpoints/, metrics.jsonl; neither --model nor inside it. One run at a time (OUT/.rlsr.lock).")
  Path out;

  @Option(names = "--epochs", defaultValue = "1", description = "Passes over the data (default: ${DEFAULT-VALUE}); ignored with --max-steps.")
  int epochs;

  @Option(names = "--max-steps", defaultValue = "0", description = "Optimizer steps; 0 derives them from --epochs (default: ${DEFAULT-VALUE}).")
  long maxSteps;

  @Option(names = "--batch-size", defaultValue = "8", description = "Examples per micro-batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
  int gradAccum;

  @Option(names = {"--learning-rate", "--lr"}, defaultValue = "2e-5", description = "Peak AdamW learning rate (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(names = "--schedule", defaultValue = "cosine", description = "After warm-up: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  LrSchedule.Kind schedule;

  @Option(names = "--warmup-steps", defaultValue = "0", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
  long warmupSteps;

  @Option(names = "--weight-decay", defaultValue = "0.0", description = "Decoupled weight decay, not on norms/biases (default: ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "Global gradient-norm clip; 0 disables (default: ${DEFAULT-VALUE}).")
  double maxGradNorm;

  @Option(names = "--max-seq-len", description = "Longest prompt+response in tokens, at most the model's max_position_embeddings (default: 1024, or that limit when smaller); longer responses are cut, over-long prompts dropped.")
  Integer maxSeqLen;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the data order (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--save-every", defaultValue = "0", description = "Checkpoint every N steps; 0 only at the end (default: ${DEFAULT-VALUE}).")
  long saveEvery;

  @Option(names = "--save-total-limit", defaultValue = "2", description = "Checkpoints kept in OUT/checkpoints; 0 keeps all (default: ${DEFAULT-VALUE}).")
  int saveTotalLimit;

  @Option(names = "--resume", description = "Continue from OUT/checkpoints/LATEST; options that change the run (data, batch size, learning rate, schedule, steps, seed, lengths, model) must match its run_config.json.")
  boolean resume;

  @Option(names = "--resume-override", description = "With --resume: continue even when such options differ from the checkpoint's run config (the differences are printed).")
  boolean resumeOverride;

  @Option(names = "--stop-after", defaultValue = "0", description = "Stop with a checkpoint after this step, keeping the schedule of the whole run (continue later with --resume); 0 runs to the end (default: ${DEFAULT-VALUE}).")
  long stopAfter;

  @Override
  public Integer call() {
    var log = spec.commandLine().getErr();
    if (resumeOverride && !resume) {
      throw new RlsrException("--resume-override only applies with --resume");
    }
    RunGuard.checkOut(out, RunGuard.inputs("--model", model, null, null));
    int seqLen = RunGuard.seqLen(maxSeqLen, 1024, RunGuard.modelConfig(model), model.resolve("config.json"),
        "--max-seq-len");
    SftOptions o = new SftOptions(model, data, out, epochs, maxSteps, batchSize, gradAccum, learningRate, schedule,
        warmupSteps, weightDecay, maxGradNorm, seqLen, seed, saveEvery, saveTotalLimit, threads.threads, resume,
        false, stopAfter).validate();
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
