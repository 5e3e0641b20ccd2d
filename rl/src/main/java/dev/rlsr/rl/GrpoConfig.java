// Every option of an RLSR run: effect, default and origin are documented here once; the CLI flags mirror it.
// Validation happens up front and each message names the flag and the fix.
package dev.rlsr.rl;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.train.LrSchedule;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;

/**
 * @param model                    {@code --model}: Hugging Face model to align (a base model for RLSR, an SFT output for SFT+RLSR)
 * @param data                     {@code --data}: JSONL (prompt, reference response) pairs; the reference is only used by the reward
 * @param out                      {@code --out}: final HF model, checkpoints/, metrics.jsonl, completions.jsonl, plots
 * @param iterations               {@code --iterations}: RL iterations (rollout + update rounds) (default 100)
 * @param promptsPerIteration      {@code --prompts-per-iteration}: P prompts sampled per iteration (default 8)
 * @param numGenerations           {@code --num-generations}: G completions per prompt, the GRPO group (default 8, TRL's default; at least 2)
 * @param maxPromptLength          {@code --max-prompt-length}: prompts keep their last this-many tokens (default 256)
 * @param maxCompletionLength      {@code --max-completion-length}: new tokens per completion at most (default 128); the
 *                                 longest prompt (after the cut) plus this must fit the model's max_position_embeddings
 * @param temperature              {@code --temperature}: sampling temperature; log-probs in the loss use the same (default 1.0, as TRL)
 * @param topP                     {@code --top-p}: nucleus sampling (default 1.0 = off)
 * @param topK                     {@code --top-k}: top-k sampling (default 0 = off)
 * @param learningRate             {@code --learning-rate}: AdamW learning rate (default 1e-6, TRL's GRPO default for billion-parameter models; small models want more)
 * @param beta                     {@code --beta}: weight of the k3 KL to the frozen starting model (default 0.04, the GRPO paper's value; 0 skips the reference model)
 * @param epsilon                  {@code --epsilon}: lower clip ε_low of the ratio (default 0.2, PPO/GRPO)
 * @param epsilonHigh              {@code --epsilon-high}: upper clip ε_high (default = epsilon; DAPO's clip-higher uses 0.28)
 * @param lossType                 {@code --loss-type}: aggregation (default dapo: token-level, no length bias, TRL's default)
 * @param scaleRewards             {@code --scale-rewards}: advantage scaling (default group, the original GRPO)
 * @param numIterations            {@code --num-iterations}: optimizer passes μ over one batch of rollouts (default 1; above 1 the ratio and clipping matter)
 * @param maskTruncatedCompletions {@code --mask-truncated-completions}: exclude completions that hit the length limit from the loss (DAPO) (default false)
 * @param embedder                 {@code --embedder}: reward encoder, built-in name or sentence-transformers ONNX directory (default all-minilm-l6-v2)
 * @param seed                     {@code --seed}: prompt order and sampling; iteration i samples with a seed derived from (seed, i) (default 42)
 * @param saveEvery                {@code --save-every}: checkpoint every N iterations, and always at the end (default 25)
 * @param saveTotalLimit           {@code --save-total-limit}: checkpoints kept; 0 keeps all (default 2)
 * @param microBatchSize           {@code --micro-batch-size}: rows per TensorFlow forward/backward; P*G rows are accumulated (default 16)
 * @param generationBatchSize      {@code --generation-batch-size}: rows per ONNX Runtime sampling call, whole groups only (default 0 = all P*G at once)
 * @param weightDecay              {@code --weight-decay}: AdamW decoupled weight decay (default 0.0)
 * @param maxGradNorm              {@code --max-grad-norm}: global gradient-norm clip (default 1.0)
 * @param warmupSteps              {@code --warmup-steps}: linear learning-rate warm-up in optimizer steps (default 0)
 * @param schedule                 {@code --schedule}: learning rate after warm-up (default constant, so reward curves are comparable across lengths)
 * @param isCorrection             {@code --is-correction}: multiply the policy term by min(exp(ℓ_old − ℓ_sampler), cap), TRL's truncated
 *                                 importance-sampling correction for the ONNX Runtime / TensorFlow log-prob gap (default true)
 * @param isCap                    {@code --is-cap}: the truncation cap C of that weight (default 2.0, Yao et al. 2025)
 * @param logCompletions           {@code --log-completions}: rows per iteration written to completions.jsonl; 0 = none (default 8)
 * @param threads                  {@code --threads}: intra-op threads of TensorFlow and ONNX Runtime (default: cores)
 * @param device                   {@code --device}: ONNX Runtime execution provider for rollouts, cpu or cuda (default cpu);
 *                                 cuda is refused up front when this ONNX Runtime has no CUDA provider
 * @param resume                   {@code --resume}: continue from out/checkpoints/LATEST, whose recorded run config must match
 *                                 (differences are refused unless {@code --resume-override})
 */
public record GrpoConfig(
    Path model,
    Path data,
    Path out,
    int iterations,
    int promptsPerIteration,
    int numGenerations,
    int maxPromptLength,
    int maxCompletionLength,
    double temperature,
    double topP,
    int topK,
    double learningRate,
    double beta,
    double epsilon,
    double epsilonHigh,
    LossType lossType,
    ScaleRewards scaleRewards,
    int numIterations,
    boolean maskTruncatedCompletions,
    String embedder,
    long seed,
    int saveEvery,
    int saveTotalLimit,
    int microBatchSize,
    int generationBatchSize,
    double weightDecay,
    double maxGradNorm,
    long warmupSteps,
    LrSchedule.Kind schedule,
    boolean isCorrection,
    double isCap,
    int logCompletions,
    int threads,
    String device,
    boolean resume) {

  public GrpoConfig validate() {
    check(numGenerations >= 2, "--num-generations must be at least 2: GRPO compares completions within a group "
        + "(got " + numGenerations + "; use 4-16)");
    check(promptsPerIteration >= 1, "--prompts-per-iteration must be at least 1");
    check(iterations >= 1, "--iterations must be at least 1");
    check(maxPromptLength >= 1, "--max-prompt-length must be at least 1");
    check(maxCompletionLength >= 1, "--max-completion-length must be at least 1");
    check(temperature > 0, "--temperature must be > 0");
    check(topP > 0 && topP <= 1, "--top-p must be in (0, 1]");
    check(topK >= 0, "--top-k must be >= 0 (0 = off)");
    check(learningRate > 0, "--learning-rate must be > 0");
    check(beta >= 0, "--beta must be >= 0 (0 disables the KL term and the reference model)");
    check(epsilon > 0 && epsilon < 1, "--epsilon must be in (0, 1)");
    check(epsilonHigh > 0, "--epsilon-high must be > 0");
    check(numIterations >= 1, "--num-iterations must be at least 1");
    check(microBatchSize >= 1, "--micro-batch-size must be at least 1");
    check(generationBatchSize >= 0, "--generation-batch-size must be >= 0 (0 = all P*G rows at once)");
    check(generationBatchSize == 0 || generationBatchSize % numGenerations == 0,
        "--generation-batch-size " + generationBatchSize + " cannot hold whole groups of --num-generations "
            + numGenerations + ": use a multiple of " + numGenerations);
    check(saveEvery >= 0, "--save-every must be >= 0");
    check(saveTotalLimit >= 0, "--save-total-limit must be >= 0 (0 keeps every checkpoint)");
    check(logCompletions >= 0, "--log-completions must be >= 0 (0 writes no completions), got " + logCompletions);
    check(isCap >= 1, "--is-cap must be >= 1");
    check(threads >= 1, "--threads must be at least 1");
    check(device.equals("cpu") || device.equals("cuda"), "--device must be cpu or cuda, got " + device);
    requireDevice(device);
    return this;
  }

  /**
   * Refuses {@code --device cuda} at once when this ONNX Runtime build has no CUDA execution provider (the CPU
   * build; {@code -Pgpu} has it), before a model is loaded or a file written.
   */
  public static void requireDevice(String device) {
    if (device.equals("cuda") && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      throw new RlsrException("--device cuda: CUDA is not available in this ONNX Runtime (providers: "
          + OrtEnvironment.getAvailableProviders() + "). Use --device cpu, or build with -Pgpu on a machine with CUDA.");
    }
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new RlsrException(message);
    }
  }

  /** The same run starting from another model (SFT+RLSR in one command starts from its SFT phase's output). */
  public GrpoConfig withModel(Path start) {
    return new GrpoConfig(start, data, out, iterations, promptsPerIteration, numGenerations, maxPromptLength,
        maxCompletionLength, temperature, topP, topK, learningRate, beta, epsilon, epsilonHigh, lossType, scaleRewards,
        numIterations, maskTruncatedCompletions, embedder, seed, saveEvery, saveTotalLimit, microBatchSize,
        generationBatchSize, weightDecay, maxGradNorm, warmupSteps, schedule, isCorrection, isCap, logCompletions,
        threads, device, resume);
  }

  /** Rows per ONNX Runtime sampling call. */
  public int rolloutRows() {
    return generationBatchSize == 0 ? rowsPerIteration() : Math.min(generationBatchSize, rowsPerIteration());
  }

  /** Rows per iteration: P * G. */
  public int rowsPerIteration() {
    return promptsPerIteration * numGenerations;
  }

  public ObjectNode toJson() {
    ObjectNode n = Json.SNAKE.valueToTree(this);
    n.put("model", model.toString());
    n.put("data", data.toString());
    n.put("out", out.toString());
    n.put("loss_type", lossType.name().toLowerCase());
    n.put("scale_rewards", scaleRewards.name().toLowerCase());
    n.put("schedule", schedule.name().toLowerCase());
    n.put("recipe", "rlsr");
    return n;
  }
}
