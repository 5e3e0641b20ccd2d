// The optimizer flags shared by sft, pretrain and train. Their defaults differ per command, so they are not in the
// annotations: each command's default-value provider supplies them from its options record (SFT, PRETRAIN, RLSR).
package dev.rlsr.cli;

import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.train.LrSchedule;
import dev.rlsr.train.SftOptions;
import java.util.Map;
import picocli.CommandLine.Option;

final class OptimizerMixin {
  static final Map<String, String> SFT = defaults(SftOptions.DEFAULT_LEARNING_RATE, SftOptions.DEFAULT_SCHEDULE,
      SftOptions.DEFAULT_WARMUP_STEPS, SftOptions.DEFAULT_WEIGHT_DECAY, SftOptions.DEFAULT_MAX_GRAD_NORM);
  static final Map<String, String> PRETRAIN = defaults(SftOptions.PRETRAIN_LEARNING_RATE, SftOptions.DEFAULT_SCHEDULE,
      SftOptions.PRETRAIN_WARMUP_STEPS, SftOptions.PRETRAIN_WEIGHT_DECAY, SftOptions.DEFAULT_MAX_GRAD_NORM);
  static final Map<String, String> RLSR = defaults(GrpoConfig.DEFAULT_LEARNING_RATE, GrpoConfig.DEFAULT_SCHEDULE,
      GrpoConfig.DEFAULT_WARMUP_STEPS, GrpoConfig.DEFAULT_WEIGHT_DECAY, GrpoConfig.DEFAULT_MAX_GRAD_NORM);

  @Option(names = {"--learning-rate", "--lr"}, description = "Peak AdamW learning rate, reached after the warm-up (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(names = "--schedule", description = "Learning rate after warm-up: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  LrSchedule.Kind schedule;

  @Option(names = "--warmup-steps", description = "Linear learning-rate warm-up, in optimizer steps (default: ${DEFAULT-VALUE}).")
  long warmupSteps;

  @Option(names = "--weight-decay", description = "Decoupled AdamW weight decay, not on norms/biases (default: ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(names = "--max-grad-norm", description = "Global gradient-norm clip; 0 disables (default: ${DEFAULT-VALUE}).")
  double maxGradNorm;

  private static Map<String, String> defaults(String learningRate, String schedule, String warmupSteps,
      String weightDecay, String maxGradNorm) {
    return Map.of("--learning-rate", learningRate, "--schedule", schedule, "--warmup-steps", warmupSteps,
        "--weight-decay", weightDecay, "--max-grad-norm", maxGradNorm);
  }

  SftOptions.Builder applyTo(SftOptions.Builder b) {
    return b.learningRate(learningRate).schedule(schedule).warmupSteps(warmupSteps).weightDecay(weightDecay)
        .maxGradNorm(maxGradNorm);
  }

  GrpoConfig.Builder applyTo(GrpoConfig.Builder b) {
    return b.learningRate(learningRate).schedule(schedule).warmupSteps(warmupSteps).weightDecay(weightDecay)
        .maxGradNorm(maxGradNorm);
  }
}
