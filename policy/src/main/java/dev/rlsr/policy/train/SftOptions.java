// Options of an SFT run, each with its default and effect; the resolved set is written into every checkpoint.
package dev.rlsr.policy.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;

/**
 * @param model         Hugging Face model directory to start from
 * @param data          JSONL dataset ({prompt,response}, Alpaca or chat form)
 * @param out           output directory: final HF model, checkpoints/, metrics.jsonl
 * @param epochs        passes over the data (default 1); ignored when maxSteps > 0
 * @param maxSteps      optimizer steps to take; 0 = derived from epochs (default 0)
 * @param batchSize     examples per micro-batch (default 8)
 * @param gradAccum     micro-batches per optimizer step (default 1); the effective batch is batchSize * gradAccum
 * @param learningRate  peak AdamW learning rate (default 2e-5, TRL's SFT default)
 * @param schedule      after warm-up: cosine decay to 0, linear decay to 0, or constant (default cosine)
 * @param warmupSteps   linear warm-up steps from 0 to the peak (default 0)
 * @param weightDecay   decoupled AdamW weight decay, not applied to norms and biases (default 0.0)
 * @param maxGradNorm   clip the global gradient norm to this; 0 disables (default 1.0)
 * @param maxSeqLen     longest prompt+response in tokens; longer responses are cut, over-long prompts dropped; at most
 *                      the model's max_position_embeddings (default 1024, the CLI caps it at that limit)
 * @param seed          data order (shuffled per epoch from seed + epoch) (default 42)
 * @param saveEvery     checkpoint every N steps; 0 = only at the end (default 0)
 * @param saveTotalLimit checkpoints kept under out/checkpoints; 0 keeps all (default 2)
 * @param threads       TensorFlow intra-op threads (default: available processors)
 * @param resume        continue from out/checkpoints/LATEST, whose recorded run config must match (see
 *                      {@link dev.rlsr.policy.checkpoint.Checkpoints#verifyRunConfig})
 * @param promptLoss    also train on prompt tokens (pretraining on raw text); SFT masks the prompt (default false)
 * @param stopAfter     stop after this step with a checkpoint, keeping the schedule of the whole run, so a long job
 *                      can be split over sessions and continued with resume; 0 = run to the end (default 0)
 */
public record SftOptions(
    Path model,
    Path data,
    Path out,
    int epochs,
    long maxSteps,
    int batchSize,
    int gradAccum,
    double learningRate,
    LrSchedule.Kind schedule,
    long warmupSteps,
    double weightDecay,
    double maxGradNorm,
    int maxSeqLen,
    long seed,
    long saveEvery,
    int saveTotalLimit,
    int threads,
    boolean resume,
    boolean promptLoss,
    long stopAfter) {

  /** Refuses impossible settings up front, naming the flag and the fix. */
  public SftOptions validate() {
    require(epochs >= 1 || maxSteps > 0, "--epochs must be at least 1 (or set --max-steps)");
    require(maxSteps >= 0, "--max-steps must be >= 0");
    require(batchSize >= 1, "--batch-size must be at least 1");
    require(gradAccum >= 1, "--grad-accum must be at least 1");
    require(learningRate > 0 && Double.isFinite(learningRate), "--learning-rate must be a positive number");
    require(warmupSteps >= 0, "--warmup-steps must be >= 0");
    require(weightDecay >= 0, "--weight-decay must be >= 0");
    require(maxGradNorm >= 0, "--max-grad-norm must be >= 0 (0 disables clipping)");
    require(maxSeqLen >= 2, "--max-seq-len must be at least 2");
    require(saveEvery >= 0, "--save-every must be >= 0 (0 saves only at the end)");
    require(saveTotalLimit >= 0, "--save-total-limit must be >= 0 (0 keeps every checkpoint)");
    require(threads >= 1, "--threads must be at least 1");
    require(stopAfter >= 0, "--stop-after must be >= 0");
    return this;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new RlsrException(message);
    }
  }

  public ObjectNode toJson() {
    ObjectNode n = Json.SNAKE.valueToTree(this);
    n.put("model", model.toString());
    n.put("data", data.toString());
    n.put("out", out.toString());
    n.put("recipe", promptLoss ? "pretrain" : "sft");
    return n;
  }
}
