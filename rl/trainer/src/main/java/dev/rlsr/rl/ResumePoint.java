// The resume phase of an RLSR run: where this invocation starts — the iteration, the weights, the optimizer state,
// the prompt order and the skipped-step count — from the latest checkpoint, or from the model when there is none.
package dev.rlsr.rl;

import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.RlsrException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;

/**
 * @param start      iterations already done (0 on a fresh start)
 * @param weights    the policy's starting weights, read tensor by tensor from the model's or the checkpoint's files
 *                   (a LoRA run's checkpoint: its adapter; on a fresh start the model's tensors)
 * @param checkpoint the checkpoint resumed from (its optimizer moments included), open until {@link #close}; null on
 *                   a fresh start
 * @param order      the prompt order's position
 * @param skipped    non-finite steps skipped so far
 */
record ResumePoint(int start, TensorSource weights, Checkpoints.Loaded checkpoint, PromptOrder.State order,
    long skipped) implements AutoCloseable {

  /** Whether a resumed run has nothing left to train. */
  boolean complete(GrpoConfig cfg) {
    return checkpoint != null && start == cfg.iterations();
  }

  /**
   * Loads {@code latest} (already checked against the run config) or starts from {@code base}; refuses a checkpoint
   * past this run's iterations.
   *
   * @param usablePrompts the usable prompts of this run's data (a checkpoint's position past them, possible only
   *                      with --resume-override and other data, continues at the next epoch)
   */
  static ResumePoint load(GrpoConfig cfg, HfModel base, Optional<Path> latest, int usablePrompts, PrintWriter log) {
    if (latest.isEmpty()) {
      if (cfg.resume()) {
        log.println("--resume: no checkpoint in " + cfg.out() + ", starting from " + cfg.model());
      }
      return new ResumePoint(0, base.tensors(), null, new PromptOrder.State(0, 0), 0);
    }
    Checkpoints.Loaded ck = Checkpoints.load(latest.get(), base.config(), cfg.lora());
    try {
      return resumed(cfg, ck, latest.get(), usablePrompts, log);
    } catch (RuntimeException e) {
      ck.close();
      throw e;
    }
  }

  private static ResumePoint resumed(GrpoConfig cfg, Checkpoints.Loaded ck, Path latest, int usablePrompts,
      PrintWriter log) {
    int start = ck.trainerState().path("iteration").asInt();
    PromptOrder.State orderState = new PromptOrder.State(ck.trainerState().path("prompt_epoch").asInt(),
        ck.trainerState().path("prompt_position").asInt());
    long skipped = ck.trainerState().path("skipped_steps").asLong();
    if (start > cfg.iterations()) {
      throw new RlsrException("--resume: " + latest + " is at iteration " + start + ", past the "
          + cfg.iterations() + " --iterations of this run");
    }
    if (orderState.position() > usablePrompts) { // only with --resume-override and other data
      log.println("--resume-override: the checkpoint's prompt position " + orderState.position() + " is past the "
          + usablePrompts + " usable prompts of " + cfg.data() + "; continuing at the start of the next epoch");
      orderState = new PromptOrder.State(orderState.epoch() + 1, 0);
    }
    log.println("resumed from " + latest + " at iteration " + start);
    return new ResumePoint(start, ck.weights(), ck, orderState, skipped);
  }

  /** Releases the checkpoint's files (once the graphs have taken the tensors). */
  @Override
  public void close() {
    if (checkpoint != null) {
      checkpoint.close();
    }
  }
}
