// The flags of the SFT training loop shared by sft and pretrain (epochs, steps, batches, seed, checkpoints, resume).
// The batch size default differs per command, so it comes from the command's default-value provider.
package dev.rlsr.cli;

import dev.rlsr.train.SftOptions;
import java.util.Map;
import picocli.CommandLine.Option;

final class SftLoopMixin {
  static final Map<String, String> SFT = Map.of("--batch-size", SftOptions.DEFAULT_BATCH_SIZE);
  static final Map<String, String> PRETRAIN = Map.of("--batch-size", SftOptions.PRETRAIN_BATCH_SIZE);

  @Option(names = "--epochs", defaultValue = SftOptions.DEFAULT_EPOCHS, description = "Passes over the data (default: ${DEFAULT-VALUE}); ignored with --max-steps.")
  int epochs;

  @Option(names = "--max-steps", defaultValue = SftOptions.DEFAULT_MAX_STEPS, description = "Optimizer steps; 0 derives them from --epochs (default: ${DEFAULT-VALUE}).")
  long maxSteps;

  @Option(names = "--batch-size", description = "Examples (pretrain: documents) per micro-batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--grad-accum", defaultValue = SftOptions.DEFAULT_GRAD_ACCUM, description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
  int gradAccum;

  @Option(names = "--seed", defaultValue = SftOptions.DEFAULT_SEED, description = "Seed of the data order (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--save-every", defaultValue = SftOptions.DEFAULT_SAVE_EVERY, description = "Checkpoint every N steps; 0 only at the end (default: ${DEFAULT-VALUE}).")
  long saveEvery;

  @Option(names = "--save-total-limit", defaultValue = SftOptions.DEFAULT_SAVE_TOTAL_LIMIT, description = "Checkpoints kept in OUT/checkpoints; 0 keeps all (default: ${DEFAULT-VALUE}).")
  int saveTotalLimit;

  @Option(names = "--resume", description = "Continue from OUT/checkpoints/LATEST (pretrain from scratch also reuses OUT/init); options that change the run (data, batch size, learning rate, schedule, steps, seed, lengths, model) must match its run_config.json.")
  boolean resume;

  @Option(names = "--resume-override", description = "With --resume: continue even when such options differ from the checkpoint's run config (the differences are printed).")
  boolean resumeOverride;

  @Option(names = "--stop-after", defaultValue = SftOptions.DEFAULT_STOP_AFTER, description = "Stop with a checkpoint after this step, keeping the schedule of the whole run (continue later with --resume); 0 runs to the end (default: ${DEFAULT-VALUE}).")
  long stopAfter;

  /** Sets the loop's options on {@code b}. */
  SftOptions.Builder applyTo(SftOptions.Builder b) {
    return b.epochs(epochs).maxSteps(maxSteps).batchSize(batchSize).gradAccum(gradAccum).seed(seed)
        .saveEvery(saveEvery).saveTotalLimit(saveTotalLimit).resume(resume).stopAfter(stopAfter);
  }
}
