// The sampling flags shared by train (rollouts) and generate, with the defaults of SamplingOptions; they are checked
// by SamplingOptions.check, in the same words for both commands.
package dev.rlsr.cli;

import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.rl.GrpoConfig;
import picocli.CommandLine.Option;

final class SamplingMixin {
  @Option(names = "--temperature", defaultValue = SamplingOptions.DEFAULT_TEMPERATURE, description = "Sampling temperature > 0; train applies it to the log-probs of the loss too (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(names = "--top-p", defaultValue = SamplingOptions.DEFAULT_TOP_P, description = "Nucleus sampling in (0, 1]; 1 = off (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--top-k", defaultValue = SamplingOptions.DEFAULT_TOP_K, description = "Keep the k most likely tokens; 0 = off (default: ${DEFAULT-VALUE}).")
  int topK;

  /** Refuses impossible values, naming the flag ({@code lengthFlag} is the command's flag of new tokens). */
  void check(String lengthFlag, int maxNewTokens) {
    SamplingOptions.check(lengthFlag, maxNewTokens, temperature, topK, topP);
  }

  GrpoConfig.Builder applyTo(GrpoConfig.Builder b) {
    return b.temperature(temperature).topP(topP).topK(topK);
  }
}
