// Learning-rate schedule evaluated per optimizer step: linear warm-up, then cosine decay to zero or constant
// (the Hugging Face get_cosine_schedule_with_warmup / get_constant_schedule_with_warmup definitions).
package dev.rlsr.train;

public record LrSchedule(double peak, Kind kind, long warmupSteps, long totalSteps) {
  public enum Kind { COSINE, CONSTANT, LINEAR }

  /** Learning rate for the optimizer step with 0-based index {@code step}. */
  public double at(long step) {
    if (step < warmupSteps) {
      return peak * (double) step / Math.max(1, warmupSteps);
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    progress = Math.min(1.0, progress);
    return switch (kind) {
      case CONSTANT -> peak;
      case COSINE -> peak * 0.5 * (1 + Math.cos(Math.PI * progress));
      case LINEAR -> peak * (1 - progress);
    };
  }
}
