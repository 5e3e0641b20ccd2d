// The peak memory of an sft, pretrain or train run, estimated from the model's config.json and the run's options
// before anything is loaded: itemised bytes for each phase of the run, with constants calibrated on measured peak RSS.
package dev.rlsr.train;

import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.rl.GrpoConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A run holds, for its whole length: the TensorFlow variables (weights, gradient accumulators, AdamW m and v), the
 * frozen reference graph (RLSR with beta > 0), the reward embedder (RLSR), the runtimes themselves, and the Java heap.
 * On top of that, one phase at a time: a training step (the activations the graph keeps for the backward pass, the
 * log-prob head and the gradient temporaries, or the AdamW step's temporaries, whichever is larger), a checkpoint
 * (the largest tensor and a streaming group on the heap; in RLSR the rollout session, made by the sync before it),
 * rollouts (the rollout session, KV cache, prefill) and the weight sync (the new session and the direct buffers it
 * copies; the old one was released after the rollouts). The plan is the phase with the largest sum.
 *
 * <p>The constants were measured on this project's 2-core machine (peak RSS of whole runs with {@code /proc} sampled
 * every 0.5 s, and of single training steps and ONNX Runtime sessions at Qwen2.5-0.5B width with 1 to 24 layers and
 * vocabularies of 1,088 and 151,936); each says what it counts. {@code MemoryPlanTest} holds the measured peaks and
 * the estimate's error against them. Where the code they describe changes (a chunked log-prob head, a fused AdamW
 * step, weights streamed instead of held on the heap), the constant named for it changes with it.
 */
public final class MemoryPlan {
  /** One float32. */
  static final long F32 = 4;
  static final long GIB = 1L << 30;
  static final long MIB = 1L << 20;

  // ---------------------------------------------------------------- resident for the whole run

  /**
   * The JVM outside its heap (metaspace, code cache, thread stacks), the TensorFlow and ONNX Runtime libraries with
   * their thread pools and the first run's allocations: 0.5-0.6 GiB above heap and variables before the first step,
   * and about 1.9 GiB over a whole streamed run (fitted so the plan is at or above each of the five runs measured
   * since weights stream, MemoryPlanTest: the micro-batch-1 SFT runs were 9% above the plan at 0.6 GiB).
   */
  public static final long RUNTIME_BYTES = 1900 * MIB;
  /** ONNX Runtime copies each weight of its session twice: the direct buffer it is handed and its prepacked layout. */
  public static final double ORT_WEIGHT_COPIES = 2;
  /**
   * And the [hidden, vocab] head twice more (its own layout for the logits MatMul, and a workspace the first sampling
   * call allocates): 1.78 GiB per session for 166M parameters at vocab 151,936, 0.50 GiB for 61M at vocab 1,088.
   */
  public static final double ORT_HEAD_COPIES = 2;
  /** A LoRA rollout session (no prepacking, OnnxPolicySessions.createLora): its copy of the weights. */
  public static final double ORT_LORA_WEIGHT_COPIES = 1;
  /** A LoRA rollout session: the transposed head constant-folded from a tied embedding. */
  public static final double ORT_LORA_HEAD_COPIES = 1;
  /** A rollout session's own allocations besides the weights. */
  public static final long ORT_SESSION_BYTES = 50 * MIB;
  /** A built-in reward encoder (all-minilm-l6-v2: 90 MB, e5-small-v2: 133 MB of ONNX) with its session and batches. */
  public static final long EMBEDDER_BUILT_IN_BYTES = 512 * MIB;
  /** A reward encoder from a directory: this many times its ONNX files, plus {@link #ORT_SESSION_BYTES}. */
  public static final double EMBEDDER_FILE_COPIES = 3;
  /**
   * A decoder embedder rlsr builds into ONNX (config.json + safetensors): this many times its float32 weights, plus
   * {@link #ORT_SESSION_BYTES}. Measured: a Qwen3-Embedding-0.6B shape (2.39 GB of float32) peaked at 2.93 GB RSS for
   * the whole {@code rlsr bench embed} process, JVM included; the graph's file is deleted once loaded.
   */
  public static final double EMBEDDER_DECODER_WEIGHT_COPIES = 1.25;

  // ---------------------------------------------------------------- the Java heap

  /** Classes, the tokenizer, the dataset: the heap's live set besides weights. */
  public static final long HEAP_BASE_BYTES = 200 * MIB;
  /**
   * Copies of the weights the heap holds for the whole run: none, the weights stream from the files into TensorFlow
   * tensor by tensor (HfModel.tensors, PolicyGraph.setWeights).
   */
  public static final double HEAP_RESIDENT_WEIGHT_COPIES = 0;
  /**
   * Copies of the weights read back from TensorFlow onto the heap at a checkpoint or a weight sync: none, they stream
   * from the graph's variables in groups (PolicyGraph.variables, TfStreams).
   */
  public static final double HEAP_READ_BACK_WEIGHT_COPIES = 0;
  /** Copies of the AdamW moments on the heap at a checkpoint: none, they stream too (AdamW.moments). */
  public static final double HEAP_CHECKPOINT_MOMENT_COPIES = 0;
  /**
   * What streaming holds at once outside the heap: one group of tensors moved per TensorFlow call (TfStreams, up to
   * 256 MiB). On the heap a checkpoint or sync holds at most the largest tensor as floats, read from that group.
   */
  public static final long STREAM_GROUP_BYTES = 256 * MIB;
  /**
   * G1 commits (and touches) more than the live set before it collects humongous arrays: 4.26 GB committed for a
   * 2.55 GB live set (SFT checkpoints of the 2-layer model).
   */
  public static final double HEAP_GROWTH = 1.6;
  /**
   * The heap's largest live set times this must fit under -Xmx (humongous arrays waste part of their last region):
   * the 24-layer model's checkpoint ran out of an 8 GiB heap at a 7.6 GiB live set.
   */
  public static final double HEAP_FRAGMENTATION = 1.1;

  // ---------------------------------------------------------------- a training step

  /** TensorFlow's own allocations in a step (executor, Grappler's rewrite of the gradient graph): about 0.28 GiB. */
  public static final long TF_STEP_BYTES = 256 * MIB;
  /**
   * Floats of [tokens, hidden] the graph keeps per layer for the backward pass (norm outputs, q and the rotary
   * halves, the repeated k and v, the attention context, residuals). With the next two, fitted to single training
   * steps of 2 and 4 layers at 256-2,048 tokens: 93 KB per token and layer at Qwen2.5-0.5B width.
   */
  public static final double LAYER_HIDDEN_COPIES = 8;
  /** Floats of [tokens, intermediate] kept per layer (gate, its sigmoid, up, their product). */
  public static final double LAYER_INTERMEDIATE_COPIES = 3.3;
  /** Floats of [rows, heads, T, T] kept per layer (scores and softmax): 2 from steps at 1x2048 against 4x512. */
  public static final double LAYER_ATTENTION_COPIES = 2;
  /**
   * Floats of [tokens, vocab] the log-prob head holds at once (logits, log-softmax, their gradients, as far as
   * TensorFlow forwards buffers): 0.8 MB per token at vocab 151,936.
   */
  public static final double HEAD_VOCAB_COPIES = 1.35;
  /**
   * The most the log-prob head holds, whatever the micro-batch: a chunked head keeps its [rows, vocab] chunks within
   * this budget. The head being built computes the log-probs chunk by chunk; until it lands, micro-batches above
   * about 1,300 tokens at a 150K vocabulary need more than this estimate says.
   */
  public static final long LOGPROB_HEAD_BUDGET_BYTES = GIB;
  /**
   * Dense gradients of the largest weight alive at once (a tied embedding's: the head's MatMul gradient, the gather's,
   * their sum): 1.3 GiB at a [151936, 896] embedding.
   */
  public static final double GRADIENT_LARGEST_COPIES = 2.4;
  /**
   * Temporaries of the AdamW step per trainable float (the clipped gradient, the new moments, their bias corrections,
   * the update), the step's peak once many tensors update side by side: 2.6-2.7 for 4 to 24 layers.
   */
  public static final double OPTIMIZER_STEP_COPIES = 2.75;
  /** The same for one weight whose whole update chain is alive at once; a model dominated by its embedding: 5.8. */
  public static final double OPTIMIZER_LARGEST_COPIES = 5.8;
  /**
   * The part of a step's transient memory still resident while a checkpoint reads the weights back (glibc keeps
   * freed small blocks): 2.1 of 5.6 GiB at 24 layers.
   */
  public static final double CHECKPOINT_RETAINED_FRACTION = 0.5;
  /**
   * The same in RLSR, where the weight sync comes between the update and the checkpoint: the new rollout session is
   * made partly from the memory the step freed, so less of it is resident beside the session (fitted to the RSS
   * timelines of rlsr train at 2 and 24 layers: the peak is the checkpoint after the sync, 8.2 and 19.3 GiB).
   */
  public static final double CHECKPOINT_RETAINED_FRACTION_AFTER_SYNC = 0.3;

  // ---------------------------------------------------------------- rollouts

  /** Past and present keys and values are alive together in a decoding step. */
  public static final double KV_CACHE_COPIES = 2;
  /** Floats of [rows x prompt, hidden] ONNX Runtime's arena holds at the prefill. */
  public static final double PREFILL_HIDDEN_COPIES = 4;
  /** Floats of [rows x prompt, intermediate] held at the prefill. */
  public static final double PREFILL_INTERMEDIATE_COPIES = 3;
  /** Floats of [rows, heads, prompt, prompt] held at the prefill. */
  public static final double PREFILL_ATTENTION_COPIES = 2;
  /** Floats of [rows, vocab]: the next-token logits and the sampler's copy. */
  public static final double SAMPLER_LOGITS_COPIES = 2;

  /** When in a run the plan peaks. */
  public enum Phase {
    STEP("a training step"), CHECKPOINT("a checkpoint"), ROLLOUT("rollouts"), SYNC("the weight sync");

    private final String description;

    Phase(String description) {
      this.description = description;
    }

    @Override
    public String toString() {
      return description;
    }
  }

  /** One line of the plan. */
  public record Item(String label, long bytes) {}

  /**
   * The RLSR parts of a run.
   *
   * @param reference        beta > 0: a frozen copy of the starting model
   * @param rows             rows per sampling call (--generation-batch-size, or P*G)
   * @param group            G: sampling calls take whole groups
   * @param promptTokens     --max-prompt-length
   * @param completionTokens --max-completion-length
   * @param remote           rollouts on Spark executors ({@code --rollout-engine spark}): no rollout session here;
   *                         the driver's heap holds the weights broadcast instead (Spark keeps the value and its
   *                         serialized pieces: twice the float32 weights, with LoRA the frozen base's for the whole
   *                         run and the adapter's)
   * @param broadcastOnHeap  with {@code remote}: the weights are the broadcast variable (not a file in
   *                         {@code --spark-weights-dir}, which the driver streams to disk)
   */
  public record Rollout(boolean reference, int rows, int group, int promptTokens, int completionTokens,
      boolean remote, boolean broadcastOnHeap) {
    /** Rollouts in this process. */
    public Rollout(boolean reference, int rows, int group, int promptTokens, int completionTokens) {
      this(reference, rows, group, promptTokens, completionTokens, false, false);
    }
  }

  /**
   * What the plan needs to know of a run.
   *
   * @param command           the command, for messages ("sft", "pretrain", "train")
   * @param rows              rows of a training micro-batch
   * @param rowsFlag          the flag that sets them
   * @param tokens            tokens per row, at most (RLSR: prompt + completion)
   * @param tokensFlag        the flag that bounds them
   * @param gradAccum         micro-batches per optimizer step (SFT; 0 where the flag does not exist)
   * @param midRunCheckpoints steps follow a checkpoint, so the heap it grew stays committed under them
   * @param rollout           the RLSR parts; null for SFT and pretraining
   * @param embedderBytes     a reward encoder loaded alongside (train), else 0
   * @param lora              the run's LoRA adapter (frozen weights, the adapter trained, no reference copy); null
   *                          for full fine-tuning
   */
  public record Run(String command, int rows, String rowsFlag, int tokens, String tokensFlag, int gradAccum,
      boolean midRunCheckpoints, Rollout rollout, long embedderBytes, LoraConfig lora) {
    /** A full fine-tuning run. */
    public Run(String command, int rows, String rowsFlag, int tokens, String tokensFlag, int gradAccum,
        boolean midRunCheckpoints, Rollout rollout, long embedderBytes) {
      this(command, rows, rowsFlag, tokens, tokensFlag, gradAccum, midRunCheckpoints, rollout, embedderBytes, null);
    }

    public Run withRows(int r) {
      return new Run(command, r, rowsFlag, tokens, tokensFlag, gradAccum, midRunCheckpoints, rollout, embedderBytes, lora);
    }

    /** Fewer tokens per row; RLSR shortens the completions (the prompt cut stays). */
    public Run withTokens(int t) {
      Rollout r = rollout == null ? null : new Rollout(rollout.reference(), rollout.rows(), rollout.group(),
          rollout.promptTokens(), t - rollout.promptTokens());
      return new Run(command, rows, rowsFlag, t, tokensFlag, gradAccum, midRunCheckpoints, r, embedderBytes, lora);
    }

    Run withRolloutRows(int n) {
      Rollout r = new Rollout(rollout.reference(), n, rollout.group(), rollout.promptTokens(), rollout.completionTokens(), rollout.remote(), rollout.broadcastOnHeap());
      return new Run(command, rows, rowsFlag, tokens, tokensFlag, gradAccum, midRunCheckpoints, r, embedderBytes, lora);
    }

    /** The same run training a LoRA adapter: the frozen weights once, no reference copy (the adapter off is it). */
    Run withLora(LoraConfig l) {
      Rollout r = rollout == null ? null
          : new Rollout(false, rollout.rows(), rollout.group(), rollout.promptTokens(), rollout.completionTokens(), rollout.remote(), rollout.broadcastOnHeap());
      return new Run(command, rows, rowsFlag, tokens, tokensFlag, gradAccum, midRunCheckpoints, r, embedderBytes, l);
    }

    Run withoutReference() {
      Rollout r = new Rollout(false, rollout.rows(), rollout.group(), rollout.promptTokens(), rollout.completionTokens(), rollout.remote(), rollout.broadcastOnHeap());
      return new Run(command, rows, rowsFlag, tokens, tokensFlag, gradAccum, midRunCheckpoints, r, embedderBytes, lora);
    }

    /** Fewest tokens per row a suggestion goes down to (RLSR: the prompt plus one completion token). */
    int minTokens() {
      return rollout == null ? 16 : rollout.promptTokens() + 1;
    }
  }

  /**
   * An SFT or pretraining run ({@code rlsr sft}, {@code rlsr pretrain}, the SFT phase of {@code rlsr train}).
   *
   * @param rowsFlag   the flag of the batch size (--batch-size, --sft-batch-size)
   * @param tokensFlag the flag of the sequence length (--max-seq-len, --sft-max-seq-len)
   */
  public static Run sft(String command, SftOptions o, String rowsFlag, String tokensFlag, long embedderBytes) {
    long end = o.stopAfter() > 0 ? o.stopAfter() : o.maxSteps(); // 0: unknown before the data is read
    boolean mid = o.saveEvery() > 0 && (end == 0 || o.saveEvery() < end);
    return new Run(command, o.batchSize(), rowsFlag, o.maxSeqLen(), tokensFlag, o.gradAccum(), mid, null,
        embedderBytes, o.lora());
  }

  /** An RLSR run ({@code rlsr train}): micro-batches of prompt + completion, rollouts, the reference, the embedder. */
  public static Run rlsr(GrpoConfig g, long embedderBytes) {
    boolean mid = g.saveEvery() > 0 && g.saveEvery() < g.iterations();
    // with an adapter the reference is the policy graph with the adapter off: no copy of the model
    Rollout r = new Rollout(g.beta() > 0 && g.lora() == null, g.rolloutRows(), g.numGenerations(),
        g.maxPromptLength(), g.maxCompletionLength(), g.spark(), g.spark() && g.sparkWeightsDir() == null);
    return new Run("train", g.microBatchSize(), "--micro-batch-size", g.maxPromptLength() + g.maxCompletionLength(),
        "--max-completion-length", 0, mid, r, embedderBytes, g.lora());
  }

  private final ModelConfig config;
  private final Run run;
  private final long maxHeap;
  private final long parameters;
  private final Phase phase;
  private final List<Item> items;
  private final long total;
  private final long heapLive;

  private MemoryPlan(ModelConfig config, Run asked, long maxHeap) {
    this.config = config;
    this.run = withinPositions(asked, config.maxPositions());
    Run run = this.run;
    this.maxHeap = maxHeap;
    this.parameters = parameters(config);
    long p = parameters;
    long largest = largestTensor(config);
    long headFloats = (long) config.vocabSize() * config.hiddenSize();
    Rollout ro = run.rollout();

    // trained: every weight, or with an adapter only the adapter (its largest tensor the largest trained one)
    long trained = run.lora() == null ? p : adapterParameters(config, run.lora());
    long largestTrained = run.lora() == null ? largest : largestAdapterTensor(config, run.lora());
    List<Item> resident = new ArrayList<>();
    if (run.lora() == null) {
      resident.add(new Item("weights", F32 * p));
      resident.add(new Item("gradients", F32 * p));
      resident.add(new Item("AdamW moments", 2 * F32 * p));
    } else { // the frozen base has no gradients and no moments
      resident.add(new Item("frozen weights", F32 * p));
      resident.add(new Item("LoRA adapter (weights, gradients, AdamW moments)", 4 * F32 * trained));
    }
    long session = 0;
    if (ro != null) {
      if (ro.reference()) {
        resident.add(new Item("reference model", F32 * p));
      }
      // full fine-tuning: not resident, train releases the session after the rollouts and the sync makes a new one,
      // so it is in the rollout, sync and checkpoint phases (the checkpoint follows the sync) but not in a training
      // step. With an adapter the session is made once over the base and only the adapter moves: resident
      session = ORT_SESSION_BYTES + (long) (F32 * (run.lora() == null
          ? ORT_WEIGHT_COPIES * p + ORT_HEAD_COPIES * headFloats
          : ORT_LORA_WEIGHT_COPIES * p + ORT_LORA_HEAD_COPIES * headFloats));
      if (ro.remote()) { // the sessions are on the executors
        session = 0;
      }
      if (run.lora() != null && !ro.remote()) {
        resident.add(new Item("rollout session", session));
      }
    }
    boolean sessionPerPhase = ro != null && run.lora() == null && !ro.remote();
    // Spark: the broadcast of the weights on the heap, the value and its pieces (LoRA: the base's and the adapter's)
    long broadcast = ro != null && ro.broadcastOnHeap() ? 2 * F32 * (run.lora() == null ? p : p + trained) : 0;
    if (run.embedderBytes() > 0) {
      resident.add(new Item("reward embedder", run.embedderBytes()));
    }
    resident.add(new Item("runtime", RUNTIME_BYTES));

    double weightsOnHeap = HEAP_RESIDENT_WEIGHT_COPIES + (ro != null ? HEAP_READ_BACK_WEIGHT_COPIES : 0);
    long steadyLive = HEAP_BASE_BYTES + broadcast + (long) (F32 * p * weightsOnHeap);
    long checkpointLive = HEAP_BASE_BYTES + broadcast + F32 * largest + (long) (F32 * p
        * (HEAP_RESIDENT_WEIGHT_COPIES + HEAP_READ_BACK_WEIGHT_COPIES + HEAP_CHECKPOINT_MOMENT_COPIES));
    this.heapLive = checkpointLive;

    // a training step: the backward pass or the AdamW step, whichever holds more
    long n = (long) run.rows() * run.tokens();
    long activations = (long) (F32 * config.numLayers() * (n * (LAYER_HIDDEN_COPIES * config.hiddenSize()
        + LAYER_INTERMEDIATE_COPIES * config.intermediateSize())
        + LAYER_ATTENTION_COPIES * run.rows() * config.numHeads() * (double) run.tokens() * run.tokens()));
    long head = Math.min((long) (F32 * HEAD_VOCAB_COPIES * n * config.vocabSize()), LOGPROB_HEAD_BUDGET_BYTES);
    long gradients = (long) (F32 * GRADIENT_LARGEST_COPIES * largestTrained);
    long optimizer = (long) (F32 * Math.max(OPTIMIZER_STEP_COPIES * trained, OPTIMIZER_LARGEST_COPIES * largestTrained));
    List<Item> step = new ArrayList<>();
    if (activations + head + gradients >= optimizer) {
      step.add(new Item("activations at " + shape(), activations));
      step.add(new Item("log-prob head", head));
      step.add(new Item("gradient temporaries", gradients));
    } else {
      step.add(new Item("AdamW step temporaries", optimizer));
    }
    step.add(new Item("TensorFlow step", TF_STEP_BYTES));
    long stepBytes = step.stream().mapToLong(Item::bytes).sum();

    List<List<Item>> phases = new ArrayList<>();
    phases.add(phase(resident, heap(run.midRunCheckpoints() ? checkpointLive : steadyLive), step));
    List<Item> checkpoint = new ArrayList<>(List.of(
        new Item("step memory not yet returned", (long) ((ro != null ? CHECKPOINT_RETAINED_FRACTION_AFTER_SYNC
            : CHECKPOINT_RETAINED_FRACTION) * stepBytes)),
        new Item("streaming group", STREAM_GROUP_BYTES)));
    if (sessionPerPhase) {
      checkpoint.add(new Item("rollout session", session));
    }
    phases.add(phase(resident, heap(checkpointLive), checkpoint));
    if (ro != null) {
      long kv = (long) (F32 * KV_CACHE_COPIES * ro.rows() * (ro.promptTokens() + (long) ro.completionTokens())
          * config.numLayers() * 2 * config.numKvHeads() * config.headDim());
      long prefillTokens = (long) ro.rows() * ro.promptTokens();
      long prefill = (long) (F32 * (prefillTokens * (PREFILL_HIDDEN_COPIES * config.hiddenSize()
          + PREFILL_INTERMEDIATE_COPIES * config.intermediateSize())
          + PREFILL_ATTENTION_COPIES * ro.rows() * config.numHeads() * (double) ro.promptTokens() * ro.promptTokens()
          + SAMPLER_LOGITS_COPIES * ro.rows() * (double) config.vocabSize()));
      List<Item> rollouts = new ArrayList<>(List.of(
          new Item("KV cache at " + ro.rows() + " rollout rows x " + (ro.promptTokens() + ro.completionTokens())
              + " tokens", kv), new Item("prefill", prefill)));
      List<Item> sync = new ArrayList<>(List.of(ro.remote()
          ? new Item("the weights copied for the next broadcast", ro.broadcastOnHeap()
              ? F32 * (run.lora() == null ? p : trained) : F32 * largest)
          : new Item("direct buffers during the sync", F32 * p)));
      if (sessionPerPhase) { // the old session is gone (released after the rollouts); the new one copies the buffers
        rollouts.add(0, new Item("rollout session", session));
        sync.add(0, new Item("rollout session", session));
      } // with an adapter the one session is made from these buffers when the run opens; a sync moves the adapter
      phases.add(phase(resident, heap(steadyLive), rollouts));
      phases.add(phase(resident, heap(steadyLive), sync));
    }
    int peak = 0;
    for (int i = 1; i < phases.size(); i++) {
      if (sum(phases.get(i)) > sum(phases.get(peak))) {
        peak = i;
      }
    }
    this.phase = Phase.values()[peak];
    this.items = List.copyOf(phases.get(peak));
    this.total = sum(items);
  }

  /** The plan of {@code run} on a model of config {@code c}, under a Java heap capped at {@code maxHeap}. */
  public static MemoryPlan of(ModelConfig c, Run run, long maxHeap) {
    return new MemoryPlan(c, run, maxHeap);
  }

  /**
   * The run as it can be: no row longer than max_position_embeddings (the length checks refuse more; the plan must
   * not refuse first with an absurd figure).
   */
  private static Run withinPositions(Run r, int positions) {
    Rollout ro = r.rollout();
    if (ro != null) {
      int completion = Math.min(ro.completionTokens(), positions - 1);
      int prompt = Math.min(ro.promptTokens(), positions - completion);
      ro = new Rollout(ro.reference(), ro.rows(), ro.group(), prompt, completion, ro.remote(), ro.broadcastOnHeap());
    }
    int tokens = ro != null ? ro.promptTokens() + ro.completionTokens() : Math.min(r.tokens(), positions);
    return new Run(r.command(), r.rows(), r.rowsFlag(), tokens, r.tokensFlag(), r.gradAccum(), r.midRunCheckpoints(),
        ro, r.embedderBytes(), r.lora());
  }

  private static List<Item> phase(List<Item> resident, Item heap, List<Item> transients) {
    List<Item> all = new ArrayList<>(resident);
    all.add(heap);
    all.addAll(transients);
    all.removeIf(i -> i.bytes() <= 0);
    return all;
  }

  private Item heap(long live) {
    return new Item("Java heap", Math.min(maxHeap, (long) (HEAP_GROWTH * live)));
  }

  private static long sum(List<Item> items) {
    return items.stream().mapToLong(Item::bytes).sum();
  }

  /** Parameters of the model config.json describes (every tensor of its layout). */
  public static long parameters(ModelConfig c) {
    long n = 0;
    for (long[] shape : ModelWeights.layout(c).values()) {
      n += elements(shape);
    }
    return n;
  }

  /** Parameters of a LoRA adapter on the model of {@code c} (r x (in + out) per adapted linear layer). */
  public static long adapterParameters(ModelConfig c, LoraConfig lora) {
    long n = 0;
    for (long[] shape : lora.layout(c).values()) {
      n += elements(shape);
    }
    return n;
  }

  private static long largestAdapterTensor(ModelConfig c, LoraConfig lora) {
    return lora.layout(c).values().stream().mapToLong(MemoryPlan::elements).max().orElse(0);
  }

  /** Bytes of the model's largest tensor in float32 (the embedding or the LM head at a large vocabulary). */
  public static long largestTensorBytes(ModelConfig c) {
    return F32 * largestTensor(c);
  }

  private static long largestTensor(ModelConfig c) {
    return ModelWeights.layout(c).values().stream().mapToLong(MemoryPlan::elements).max().orElse(0);
  }

  private static long elements(long[] shape) {
    long e = 1;
    for (long d : shape) {
      e *= d;
    }
    return e;
  }

  public Run run() {
    return run;
  }

  /** The model config the plan is for. */
  public ModelConfig config() {
    return config;
  }

  public long parameterCount() {
    return parameters;
  }

  /** Bytes at the peak. */
  public long total() {
    return total;
  }

  /** The phase of the peak. */
  public Phase phase() {
    return phase;
  }

  /** What the peak is made of; the bytes sum to {@link #total}. */
  public List<Item> items() {
    return items;
  }

  /** The Java heap's largest live set (at a checkpoint). */
  public long heapLive() {
    return heapLive;
  }

  /** The -Xmx this run needs: the heap's largest live set with room for fragmentation. */
  public long heapNeeded() {
    return (long) (HEAP_FRAGMENTATION * heapLive);
  }

  /** "--batch-size 8 x --max-seq-len 1024", or for RLSR "--micro-batch-size 16 x 384 tokens". */
  String shape() {
    return run.rowsFlag() + " " + run.rows() + " x " + (run.rollout() == null ? run.tokensFlag() + " " + run.tokens()
        : run.tokens() + " tokens");
  }

  /** "weights 1.8, gradients 1.8, ..., activations at --batch-size 8 x --max-seq-len 1024: 14.9" (GiB). */
  public String breakdown() {
    List<String> parts = new ArrayList<>();
    for (Item i : items) {
      parts.add(format(i));
    }
    return String.join(", ", parts);
  }

  /** "weights 1.8", "activations at --batch-size 8 x --max-seq-len 1024: 14.9" (a label with numbers takes a colon). */
  private static String format(Item i) {
    return i.label() + (i.label().matches(".*\\d.*") ? ": " : " ") + gib(i.bytes());
  }

  /** "about 16.6 GiB at its peak, in a training step (weights 1.8, ...)". */
  public String summary() {
    return "about " + gib(total) + " GiB at its peak, in " + phase + " (" + breakdown() + ")";
  }

  /** The LoRA rank {@link #fixes} suggests for a full fine-tuning run that does not fit (PEFT's usual 8-16). */
  public static final int SUGGESTED_LORA_R = 16;

  /**
   * Changes of one flag each that bring the plan within {@code available} bytes, best first: the largest micro-batch,
   * the longest rows, the largest rollout batch that fit, or no reference model; when none fits alone, the smallest
   * micro-batch and rollout batch with the longest rows that fit; for full fine-tuning (sft, train), also a
   * rank-{@value #SUGGESTED_LORA_R} LoRA adapter when that fits (then the fallback combinations are not offered).
   * Empty when nothing fits.
   */
  public List<String> fixes(long available) {
    List<String> out = new ArrayList<>();
    for (int r = run.rows() - 1; r >= 1; r--) {
      MemoryPlan p = with(run.withRows(r));
      if (p.total <= available) {
        String keep = run.gradAccum() > 0 ? "; --grad-accum " + ceilDiv((long) run.rows() * run.gradAccum(), r)
            + " keeps the effective batch" : "";
        out.add("lower " + run.rowsFlag() + " to " + r + " (about " + gib(p.total) + " GiB" + keep + ")");
        break;
      }
    }
    String tokens = longestFitting(run, available);
    if (tokens != null) {
      out.add("lower " + tokens);
    }
    Rollout ro = run.rollout();
    if (ro != null) {
      for (int r = ro.rows() - ro.group(); r >= ro.group(); r -= ro.group()) {
        MemoryPlan p = with(run.withRolloutRows(r));
        if (p.total <= available) {
          out.add("lower --generation-batch-size to " + r + " (about " + gib(p.total) + " GiB)");
          break;
        }
      }
      if (ro.reference() && with(run.withoutReference()).total <= available) {
        out.add("--beta 0 (no reference model: about " + gib(with(run.withoutReference()).total) + " GiB)");
      }
    }
    // full fine-tuning that does not fit may fit as a LoRA adapter: PEFT's usual rank, every linear layer
    String lora = null;
    if (run.lora() == null && !run.command().equals("pretrain") && with(run.withLora(LoraConfig.of(SUGGESTED_LORA_R))).total <= available) {
      lora = "--lora-r " + SUGGESTED_LORA_R + " (train a LoRA adapter on the frozen model instead of every weight: "
          + "about " + gib(with(run.withLora(LoraConfig.of(SUGGESTED_LORA_R))).total) + " GiB)";
    }
    if (out.isEmpty() && lora == null) {
      Run smallest = run.withRows(1);
      if (ro != null) {
        smallest = smallest.withRolloutRows(ro.group());
      }
      if (with(smallest).total <= available) {
        out.add("lower " + run.rowsFlag() + " to 1 (about " + gib(with(smallest).total) + " GiB"
            + (ro != null ? ", with --generation-batch-size " + ro.group() : "") + ")");
      } else {
        String t = longestFitting(smallest, available);
        if (t != null) {
          out.add("lower " + run.rowsFlag() + " to 1" + (ro != null ? ", --generation-batch-size " + ro.group() : "")
              + " and " + t);
        }
      }
    }
    if (lora != null) {
      out.add(lora);
    }
    return out;
  }

  /** "--max-seq-len to 512 (about 14.1 GiB)": the longest rows (halving) at which {@code r} fits, or null. */
  private String longestFitting(Run r, long available) {
    for (int t = r.tokens() / 2; t >= r.minTokens(); t /= 2) {
      MemoryPlan p = with(r.withTokens(t));
      if (p.total <= available) {
        int value = r.rollout() == null ? t : t - r.rollout().promptTokens();
        return r.tokensFlag() + " to " + value + " (about " + gib(p.total) + " GiB)";
      }
    }
    return null;
  }

  /** The same model and heap with other options. */
  public MemoryPlan with(Run other) {
    return new MemoryPlan(config, other, maxHeap);
  }

  /** The same run under another heap cap. */
  public MemoryPlan withHeap(long cap) {
    return new MemoryPlan(config, run, cap);
  }

  /** The heap cap this plan assumes (-Xmx). */
  public long maxHeap() {
    return maxHeap;
  }

  /** The {@code n} largest items, "Java heap 11.8, AdamW moments 3.7" (GiB). */
  public String largest(int n) {
    List<String> parts = new ArrayList<>();
    items.stream().sorted(Comparator.comparingLong(Item::bytes).reversed()).limit(n)
        .forEach(i -> parts.add(format(i)));
    return String.join(", ", parts);
  }

  /** The larger of two plans (train with an SFT phase: that phase, or the RLSR phase). */
  public static MemoryPlan larger(List<MemoryPlan> plans) {
    return plans.stream().max(Comparator.comparingLong(MemoryPlan::total)).orElseThrow();
  }

  /** Bytes in GiB with one decimal ("16.6"). */
  public static String gib(long bytes) {
    return String.format(Locale.ROOT, "%.1f", bytes / (double) GIB);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
