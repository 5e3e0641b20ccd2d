// Options of an SFT run, each with its default and effect; the resolved set is written into every checkpoint.
package dev.rlsr.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Each option's default is one {@code DEFAULT_*} constant below ({@code PRETRAIN_*} where {@code rlsr pretrain}
 * differs); {@link #builder()} and {@link #pretrainBuilder()} start from them and the CLI declares its flags with
 * them. Build through a builder, setting only what differs.
 *
 * @param model         Hugging Face model directory to start from
 * @param data          JSONL dataset ({prompt,response}, Alpaca or chat form)
 * @param out           output directory: final HF model, checkpoints/, metrics.jsonl
 * @param epochs        passes over the data; ignored when maxSteps > 0
 * @param maxSteps      optimizer steps to take; 0 = derived from epochs
 * @param batchSize     examples per micro-batch
 * @param gradAccum     micro-batches per optimizer step; the effective batch is batchSize * gradAccum
 * @param learningRate  peak AdamW learning rate (SFT: TRL's SFT default; pretraining: for small models from scratch)
 * @param schedule      after warm-up: cosine decay to 0, linear decay to 0, or constant
 * @param warmupSteps   linear warm-up steps from 0 to the peak
 * @param weightDecay   decoupled AdamW weight decay, not applied to norms and biases
 * @param maxGradNorm   clip the global gradient norm to this; 0 disables
 * @param maxSeqLen     longest prompt+response in tokens; longer responses are cut, over-long prompts dropped; at most
 *                      the model's max_position_embeddings (the CLI caps its default at that limit)
 * @param seed          data order (shuffled per epoch from seed + epoch)
 * @param saveEvery     checkpoint every N steps; 0 = only at the end
 * @param saveTotalLimit checkpoints kept under out/checkpoints; 0 keeps all
 * @param threads       TensorFlow intra-op threads (default: available processors)
 * @param resume        continue from out/checkpoints/LATEST, whose recorded run config must match (see
 *                      {@link dev.rlsr.policy.checkpoint.Checkpoints#verifyRunConfig})
 * @param promptLoss    also train on prompt tokens (pretraining on raw text); SFT masks the prompt
 * @param stopAfter     stop after this step with a checkpoint, keeping the schedule of the whole run, so a long job
 *                      can be split over sessions and continued with resume; 0 = run to the end
 * @param lora          train a LoRA adapter on the frozen model (checkpoints and the final model are PEFT adapter
 *                      directories); null = full fine-tuning of every weight
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
    long stopAfter,
    LoraConfig lora) {

  // The defaults of an SFT run, each written once (strings: picocli's defaultValue takes and prints them as they are).
  public static final String DEFAULT_EPOCHS = "1";
  public static final String DEFAULT_MAX_STEPS = "0";
  public static final String DEFAULT_BATCH_SIZE = "8";
  public static final String DEFAULT_GRAD_ACCUM = "1";
  /** TRL's SFT default. */
  public static final String DEFAULT_LEARNING_RATE = "2e-5";
  public static final String DEFAULT_SCHEDULE = "cosine";
  public static final String DEFAULT_WARMUP_STEPS = "0";
  public static final String DEFAULT_WEIGHT_DECAY = "0.0";
  public static final String DEFAULT_MAX_GRAD_NORM = "1.0";
  /** Longest prompt+response when not given; the CLI lowers it to the model's max_position_embeddings. */
  public static final int DEFAULT_MAX_SEQ_LEN = 1024;
  public static final String DEFAULT_SEED = "42";
  public static final String DEFAULT_SAVE_EVERY = "0";
  public static final String DEFAULT_SAVE_TOTAL_LIMIT = "2";
  public static final String DEFAULT_STOP_AFTER = "0";

  // Where pretraining on raw text ({@code rlsr pretrain}, the demo's base model) differs.
  public static final String PRETRAIN_BATCH_SIZE = "16";
  /** For small models from scratch. */
  public static final String PRETRAIN_LEARNING_RATE = "3e-3";
  public static final String PRETRAIN_WARMUP_STEPS = "40";
  public static final String PRETRAIN_WEIGHT_DECAY = "0.01";
  /** Longest document when not given; the CLI lowers it to the model's max_position_embeddings. */
  public static final int PRETRAIN_MAX_SEQ_LEN = 128;

  /** An SFT run with the defaults (prompt tokens masked). */
  public static Builder builder() {
    return new Builder();
  }

  /** A pretraining run with the pretraining defaults: loss on every token. */
  public static Builder pretrainBuilder() {
    return new Builder().promptLoss(true).batchSize(Integer.parseInt(PRETRAIN_BATCH_SIZE))
        .learningRate(Double.parseDouble(PRETRAIN_LEARNING_RATE)).warmupSteps(Long.parseLong(PRETRAIN_WARMUP_STEPS))
        .weightDecay(Double.parseDouble(PRETRAIN_WEIGHT_DECAY)).maxSeqLen(PRETRAIN_MAX_SEQ_LEN);
  }

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
    LoraRun.record(n, lora);
    return n;
  }

  /** Starts from the SFT defaults; {@link #build} needs model, data and out. */
  public static final class Builder {
    private Path model;
    private Path data;
    private Path out;
    private int epochs = Integer.parseInt(DEFAULT_EPOCHS);
    private long maxSteps = Long.parseLong(DEFAULT_MAX_STEPS);
    private int batchSize = Integer.parseInt(DEFAULT_BATCH_SIZE);
    private int gradAccum = Integer.parseInt(DEFAULT_GRAD_ACCUM);
    private double learningRate = Double.parseDouble(DEFAULT_LEARNING_RATE);
    private LrSchedule.Kind schedule = LrSchedule.Kind.valueOf(DEFAULT_SCHEDULE.toUpperCase(Locale.ROOT));
    private long warmupSteps = Long.parseLong(DEFAULT_WARMUP_STEPS);
    private double weightDecay = Double.parseDouble(DEFAULT_WEIGHT_DECAY);
    private double maxGradNorm = Double.parseDouble(DEFAULT_MAX_GRAD_NORM);
    private int maxSeqLen = DEFAULT_MAX_SEQ_LEN;
    private long seed = Long.parseLong(DEFAULT_SEED);
    private long saveEvery = Long.parseLong(DEFAULT_SAVE_EVERY);
    private int saveTotalLimit = Integer.parseInt(DEFAULT_SAVE_TOTAL_LIMIT);
    private int threads = Runtime.getRuntime().availableProcessors();
    private boolean resume;
    private boolean promptLoss;
    private long stopAfter = Long.parseLong(DEFAULT_STOP_AFTER);
    private LoraConfig lora;

    private Builder() {}

    public Builder model(Path v) { model = v; return this; }
    public Builder data(Path v) { data = v; return this; }
    public Builder out(Path v) { out = v; return this; }
    public Builder epochs(int v) { epochs = v; return this; }
    public Builder maxSteps(long v) { maxSteps = v; return this; }
    public Builder batchSize(int v) { batchSize = v; return this; }
    public Builder gradAccum(int v) { gradAccum = v; return this; }
    public Builder learningRate(double v) { learningRate = v; return this; }
    public Builder schedule(LrSchedule.Kind v) { schedule = v; return this; }
    public Builder warmupSteps(long v) { warmupSteps = v; return this; }
    public Builder weightDecay(double v) { weightDecay = v; return this; }
    public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
    public Builder maxSeqLen(int v) { maxSeqLen = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    public Builder saveEvery(long v) { saveEvery = v; return this; }
    public Builder saveTotalLimit(int v) { saveTotalLimit = v; return this; }
    public Builder threads(int v) { threads = v; return this; }
    public Builder resume(boolean v) { resume = v; return this; }
    public Builder promptLoss(boolean v) { promptLoss = v; return this; }
    public Builder stopAfter(long v) { stopAfter = v; return this; }
    public Builder lora(LoraConfig v) { lora = v; return this; }

    /** The options (not yet validated: {@link SftOptions#validate} refuses impossible settings naming the flag). */
    public SftOptions build() {
      return new SftOptions(Objects.requireNonNull(model, "model"), Objects.requireNonNull(data, "data"),
          Objects.requireNonNull(out, "out"), epochs, maxSteps, batchSize, gradAccum, learningRate,
          Objects.requireNonNull(schedule, "schedule"), warmupSteps, weightDecay, maxGradNorm, maxSeqLen, seed,
          saveEvery, saveTotalLimit, threads, resume, promptLoss, stopAfter, lora);
    }
  }
}
