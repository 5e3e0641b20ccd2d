// The RLSR loop: P prompts -> G completions each from the rollout engine (ONNX Runtime) -> embedding-cosine rewards
// against the references -> group-relative advantages -> ℓ_old (and ℓ_ref) in TensorFlow -> GRPO optimizer step(s)
// -> weight sync to the rollout engine. Metrics, sample completions, atomic checkpoints and exact resume.
package dev.rlsr.rl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.graph.Feeds;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.graph.TokenBatch;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.optim.AdamW;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.rl.rollout.LocalRolloutStage;
import dev.rlsr.rl.rollout.RolloutStage;
import dev.rlsr.rl.rollout.RolloutStages;
import dev.rlsr.rl.rollout.RolloutUnit;
import dev.rlsr.rl.rollout.ScoredUnit;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.LoraRun;
import dev.rlsr.train.LrSchedule;
import dev.rlsr.train.MetricsLog;
import dev.rlsr.train.Phases;
import dev.rlsr.train.Progress;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One RLSR run in four phases: prepare ({@link TrainingPrompts}), resume ({@link ResumePoint}), iterate (each
 * iteration: rollout -> reward -> log-probs -> update -> sync, then its metrics row ({@link IterationMetrics}) and
 * sample completions ({@link CompletionLog})) and checkpoint.
 */
public final class RlsrTrainer {
  /**
   * What a finished run reports; {@code iterationsRun} counts this invocation's iterations (0 when a resumed run
   * was already complete; the rewards are then NaN).
   */
  public record Summary(int iterations, double firstReward, double lastReward, long skippedSteps, Path out,
      int iterationsRun) {}

  private final GrpoConfig cfg;
  private final PrintWriter log;
  private boolean resumeOverride;

  public RlsrTrainer(GrpoConfig config, PrintWriter log) {
    this.cfg = config.validate();
    this.log = log;
  }

  /** --resume-override: resume even when options that change the run differ from the checkpoint's run config. */
  public RlsrTrainer resumeOverride(boolean override) {
    this.resumeOverride = override;
    return this;
  }

  /**
   * The run config this trainer records in its checkpoints (the options plus the data file's size and hash), to
   * compare with a checkpoint before anything runs.
   */
  public ObjectNode runConfig() {
    ObjectNode rc = cfg.toJson();
    Checkpoints.recordData(rc, cfg.data());
    return rc;
  }

  /**
   * Runs the loop on examples already read (the CLI reads the JSONL file), with the given reward.
   */
  public Summary run(List<Example> examples, RewardFunction reward) {
    if (examples.isEmpty()) {
      throw new RlsrException(cfg.data() + ": the dataset is empty");
    }
    Checkpoints ckpts = new Checkpoints(cfg.out());
    var latest = ckpts.forRun(cfg.resume());
    ObjectNode runConfig = runConfig();
    Phases phases = new Phases(log);
    phases.loading(cfg.model());
    try (HfModel base = HfModel.load(cfg.model())) {
      LoraRun lora = cfg.lora() == null ? null : LoraRun.start(base, cfg.model(), cfg.lora());
      TrainingPrompts data = TrainingPrompts.prepare(cfg, base, examples, log);
      if (latest.isPresent()) {
        Checkpoints.verifyRunConfig(latest.get(), runConfig, resumeOverride, log);
      }
      ckpts.cleanTemporary(log);
      latest.ifPresent(dir -> phases.begin("loading the checkpoint " + dir));
      ResumePoint resume = ResumePoint.load(cfg, base, latest, data.size(), log);
      if (resume.complete(cfg)) {
        resume.close();
        log.println("--resume: " + latest.get().getFileName() + " is already at iteration " + resume.start() + " of "
            + cfg.iterations() + "; nothing to train, the final model is (re)published in " + cfg.out());
        ckpts.publish(latest.get());
        return new Summary(cfg.iterations(), Double.NaN, Double.NaN, resume.skipped(), cfg.out(), 0);
      }
      try {
        Files.createDirectories(cfg.out());
      } catch (java.io.IOException | RuntimeException e) {
        resume.close();
        throw e;
      }
      return new Loop(base, lora, data, resume, ckpts, runConfig, reward).iterate(phases);
    } catch (java.io.IOException e) {
      throw new RlsrException(cfg.out() + ": " + e.getMessage(), e);
    }
  }

  /** The iterate phase: what this invocation's iterations share, and the counters carried from one to the next. */
  private final class Loop {
    private final HfModel base;
    private final Tokenizer tok;
    private final TrainingPrompts data;
    private final ResumePoint resume;
    private final Checkpoints ckpts;
    private final ObjectNode runConfig;
    private final RewardFunction reward;
    private final LrSchedule schedule;
    private final PromptOrder order;
    private final SamplingOptions baseSampling;
    private final LoraRun lora; // null: full fine-tuning
    // opened and closed by iterate()
    private PolicyGraph policy;
    private PolicyGraph ref;
    private RolloutStage stage;
    private MetricsLog metrics;
    private MetricsLog completions;
    private Progress bar;
    // carried across iterations
    private long skipped;
    private Path lastCkpt;
    private double firstReward = Double.NaN;
    private double lastReward = Double.NaN;
    private double runningReward = Double.NaN;

    Loop(HfModel base, LoraRun lora, TrainingPrompts data, ResumePoint resume, Checkpoints ckpts,
        ObjectNode runConfig, RewardFunction reward) {
      this.base = base;
      this.tok = base.tokenizer();
      this.data = data;
      this.resume = resume;
      this.ckpts = ckpts;
      this.runConfig = runConfig;
      this.reward = reward;
      long totalSteps = (long) cfg.iterations() * cfg.numIterations();
      this.schedule = new LrSchedule(cfg.learningRate(), cfg.schedule(), cfg.warmupSteps(), totalSteps);
      this.order = new PromptOrder(data.size(), cfg.seed(), resume.order());
      this.baseSampling = new SamplingOptions(cfg.maxCompletionLength(), cfg.temperature(), cfg.topK(),
          cfg.topP(), false, cfg.seed(), Arrays.stream(tok.eosIds()).boxed().toList(), tok.padId());
      this.skipped = resume.skipped();
      this.lastCkpt = resume.checkpoint() == null ? null : resume.checkpoint().dir();
      this.lora = lora;
    }

    /** Opens the graphs, the rollout engine and the logs, runs the remaining iterations, publishes the last checkpoint. */
    Summary iterate(Phases phases) {
      // Rollouts need only the next-token logits: the LAST graph skips the [batch, prompt, vocab] prefill logits
      // (rlsr bench generate: 430 vs 370 tokens/s on the 5M model; far more memory saved at a 150k vocabulary).
      EngineOptions rolloutOptions = EngineOptions.of(cfg.threads(), cfg.device()).withDtype(cfg.rolloutDtype())
          .withMetadata(Map.of("rlsr.run_config", runConfig.toString()));
      // With an adapter (--lora-r) there is no reference graph: the KL reference is the frozen base, the policy graph
      // with the adapter's scale fed as 0.
      boolean refGraph = cfg.beta() > 0 && cfg.lora() == null;
      phases.begin(refGraph ? "building the TensorFlow graphs (policy with gradients and AdamW, frozen reference)"
          : cfg.lora() != null ? "building the TensorFlow graph (a rank-" + cfg.lora().r() + " LoRA adapter with"
          + " gradients and AdamW on the frozen policy" + (cfg.beta() > 0 ? ", which is also the reference)" : ")")
          : "building the TensorFlow graph (policy with gradients and AdamW)");
      // Every copy of the model is streamed tensor by tensor from files or graph variables; none is ever whole on
      // the Java heap. The reference model (the KL term) loads from the base model's files.
      PolicyGraph policy;
      try {
        ref = refGraph ? PolicyGraph.create(base.config(), base.tensors(),
            PolicyGraph.Options.inference(cfg.threads()), List.of()) : null;
        PolicyGraph.Options options = PolicyGraph.Options.training(cfg.threads()).withLora(cfg.lora(), cfg.seed());
        Checkpoints.Loaded ck = resume.checkpoint();
        policy = PolicyGraph.create(base.config(), lora != null ? lora.base() : resume.weights(), options,
            List.of(new GrpoLoss()));
        try {
          if (lora != null && (ck != null || lora.adapter() != null)) {
            policy.setAdapter(ck != null ? ck.weights() : lora.adapter());
          }
          if (ck != null && ck.moments() != null) {
            policy.training().optimizer().restore(ck.moments(), ck.optimizerStep());
          }
        } catch (RuntimeException e) {
          policy.close();
          throw e;
        }
      } catch (RuntimeException e) {
        if (ref != null) {
          ref.close();
        }
        throw e;
      } finally {
        resume.close(); // the checkpoint's tensors are in the graph now
      }
      long keep = cfg.resume() ? resume.start() : -1;
      try (policy;
          MetricsLog metrics = new MetricsLog(cfg.out().resolve("metrics.jsonl"), "iteration", keep);
          MetricsLog completions = new MetricsLog(cfg.out().resolve("completions.jsonl"), "iteration", keep);
          Progress bar = phases.progress("rlsr", cfg.iterations(), resume.start(),
              "opening the ONNX Runtime rollout session, then the first iteration")) {
        this.policy = policy;
        this.metrics = metrics;
        this.completions = completions;
        this.bar = bar;
        policy.setTemperature((float) cfg.temperature());
        if (ref != null) {
          ref.setTemperature((float) cfg.temperature());
        }
        // the rollout engine takes the policy's weights straight from its variables (and so at every sync); with an
        // adapter it is made once over the frozen base and every sync moves only the adapter (no new session)
        if (cfg.spark()) {
          stage = RolloutStages.open(cfg.rolloutEngine(), new RolloutStage.Context(cfg, base.config(),
              tok.modelDir(), policy.variables(), baseSampling, rolloutOptions.metadata(), log));
        } else {
          stage = new LocalRolloutStage(RolloutEngines.open(RolloutEngines.Backend.ONNX, base.config(),
              policy.variables(), lora == null ? rolloutOptions : rolloutOptions.withLora(cfg.lora())), tok, reward,
              baseSampling, cfg.seed());
        }
        if (lora != null) {
          stage.sync(policy.adapter()); // a resumed adapter, or PEFT's initial one (B = 0: the base's output)
        }
        for (int it = resume.start(); it < cfg.iterations(); it++) {
          iteration(it);
        }
        if (lastCkpt != null) {
          ckpts.publish(lastCkpt);
        }
        Plots.write(cfg.out().resolve("metrics.jsonl"), cfg.out().resolve("plots"));
        return new Summary(cfg.iterations(), firstReward, lastReward, skipped, cfg.out(),
            cfg.iterations() - resume.start());
      } finally {
        if (stage != null) {
          stage.close();
        }
        if (ref != null) {
          ref.close();
        }
      }
    }

    /** What a sync hands the rollout engine: the policy's variables, or with an adapter the adapter alone. */
    private TensorSource rolloutWeights() {
      return lora == null ? policy.variables() : policy.adapter();
    }

    /** One iteration: rollout -> reward -> log-probs -> update -> sync, its metrics and, when due, a checkpoint. */
    private void iteration(int it) {
      long tIter = System.nanoTime();
      int[] chosen = order.next(cfg.promptsPerIteration());
      int g = cfg.numGenerations();
      List<int[]> slotPrompts = new ArrayList<>();
      List<String> slotRefs = new ArrayList<>();
      for (int p : chosen) {
        slotPrompts.add(data.ids().get(p));
        slotRefs.add(data.usable().get(p).response());
      }
      // row p * g + k is completion k of the prompt in slot p, cut into units of --generation-batch-size rows
      List<RolloutUnit> units = RolloutUnit.split(slotPrompts, slotRefs, g, cfg.rolloutRows());
      List<int[]> rowPrompts = new ArrayList<>();
      List<String> refs = new ArrayList<>();
      for (RolloutUnit u : units) {
        rowPrompts.addAll(u.prompts());
        refs.addAll(u.references());
      }

      // 1-2. rollouts in ONNX Runtime on the current weights, and their rewards (cosine of completion and reference
      // embeddings), each row seeded from (seed, iteration, prompt, completion); the seconds of each half are where
      // the units ran (on Spark, summed over the executors)
      RolloutStage.Result scored = stage.run(it, units);
      // the session is not used again before the sync makes a new one: free it, so that the log-prob passes and the
      // update run without it (at 0.5B a whole bench train run peaked at 20.64 GiB with it, 18.52 GiB without); an
      // adapter engine keeps its session over the base, which no sync sends again
      stage.release();
      List<Rollout> rollouts = new ArrayList<>();
      List<String> texts = new ArrayList<>();
      float[] rewards = new float[rowPrompts.size()];
      double sRollout = 0;
      double sReward = 0;
      for (ScoredUnit u : scored.units()) {
        for (int r = 0; r < u.rollouts().size(); r++) {
          rewards[rollouts.size()] = u.rewards()[r];
          rollouts.add(u.rollouts().get(r));
          texts.add(u.texts().get(r));
        }
        sRollout += u.rolloutSeconds();
        sReward += u.rewardSeconds();
      }
      float[] adv = Advantages.compute(rewards, g, cfg.scaleRewards());

      // 3. log-probs of the sampled tokens: ℓ_old (policy before the update) and ℓ_ref, in TensorFlow
      long t = System.nanoTime();
      RolloutBatch rb = RolloutBatch.layout(rowPrompts, rollouts);
      float[][] oldLogp = logprobs(policy, rb, false);
      float[][] refLogp = ref != null ? logprobs(ref, rb, false)
          : cfg.lora() != null && cfg.beta() > 0 ? logprobs(policy, rb, true) : oldLogp;
      SamplerGap isw = importanceWeights(rb, oldLogp);
      double sLogprobs = (System.nanoTime() - t) / 1e9;

      // 4. GRPO update: num_iterations passes over this batch of rollouts
      t = System.nanoTime();
      IterationMetrics.Update u = update(it, rb, rollouts, oldLogp, refLogp, adv, isw);
      double sUpdate = (System.nanoTime() - t) / 1e9;

      // 5. weight sync: the updated TensorFlow variables go to the rollout engine tensor by tensor (a new ONNX
      // Runtime session), or with an adapter the adapter alone (the same session); on Spark, one broadcast
      t = System.nanoTime();
      stage.sync(rolloutWeights());
      double sSync = (System.nanoTime() - t) / 1e9;

      // metrics
      double rewardMean = IterationMetrics.mean(rewards);
      if (Double.isNaN(firstReward)) {
        firstReward = rewardMean;
      }
      lastReward = rewardMean;
      runningReward = Double.isNaN(runningReward) ? rewardMean : 0.9 * runningReward + 0.1 * rewardMean;
      double iterSeconds = (System.nanoTime() - tIter) / 1e9;
      ObjectNode row = IterationMetrics.row(it + 1, rewards, rollouts, u, isw, skipped, g,
          new IterationMetrics.Seconds(sRollout, sReward, sLogprobs, sUpdate, sSync, iterSeconds));
      // what the TensorFlow passes computed on: real tokens and the padded [rows, longest] batch
      long realTokens = 0;
      for (int[] a : rb.attention()) {
        realTokens += Arrays.stream(a).sum();
      }
      row.put("update_tokens", realTokens);
      row.put("update_padded_tokens", (long) rb.ids().length * rb.ids()[0].length);
      scored.metrics().forEach(row::put); // the stage's own figures (the Spark engine's spark_* seconds)
      metrics.write(row);
      CompletionLog.write(completions, cfg.logCompletions(), it + 1,
          r -> data.usable().get(chosen[r / g]).promptText(), texts, refs, rewards, adv);
      bar.step(it + 1, String.format("reward %.3f (avg %.3f)", rewardMean, runningReward));

      boolean last = it + 1 == cfg.iterations();
      if (last || (cfg.saveEvery() > 0 && (it + 1) % cfg.saveEvery() == 0)) {
        long t1 = System.nanoTime();
        lastCkpt = checkpoint(it + 1);
        log.printf("checkpoint %s written in %.1f s%n", lastCkpt.getFileName(), (System.nanoTime() - t1) / 1e9);
      }
    }

    /** num_iterations optimizer passes over the batch; a non-finite loss or gradient skips its step. */
    private IterationMetrics.Update update(int it, RolloutBatch rb, List<Rollout> rollouts, float[][] oldLogp, float[][] refLogp,
        float[] adv, SamplerGap isw) {
      float[][] lossMask = cfg.maskTruncatedCompletions() ? withoutTruncated(rb, rollouts) : rb.mask();
      Map<String, Double> sums = new HashMap<>();
      double loss = 0;
      double gradNorm = Double.NaN;
      double lr = Double.NaN;
      for (int mu = 0; mu < cfg.numIterations(); mu++) {
        sums.clear();
        loss = updatePass(policy, rb, lossMask, oldLogp, refLogp, adv, isw.weight(), sums);
        lr = schedule.at(policy.training().step() + skipped);
        if (!Double.isFinite(loss)) {
          policy.training().discardGradients();
          skipped++;
          log.println("iteration " + (it + 1) + ": non-finite loss (" + loss + "); step skipped, not applied"
              + " (skipped so far: " + skipped + ")");
          continue;
        }
        AdamW.StepResult step = policy.training().applyGradients(lr, cfg.weightDecay(), cfg.maxGradNorm());
        gradNorm = step.gradNorm();
        if (!step.applied()) {
          skipped++;
          log.println("iteration " + (it + 1) + ": non-finite gradient; step skipped, not applied (skipped so far: "
              + skipped + ")");
        }
      }
      return new IterationMetrics.Update(sums, loss, gradNorm, lr);
    }

    /** The checkpoint phase: weights, optimizer state, prompt order and counters after {@code iteration} iterations. */
    private Path checkpoint(int iteration) {
      ObjectNode state = Json.MAPPER.createObjectNode();
      state.put("iteration", iteration);
      state.put("prompt_epoch", order.state().epoch());
      state.put("prompt_position", order.state().position());
      state.put("optimizer_step", policy.training().step());
      state.put("skipped_steps", skipped);
      state.put("seed", cfg.seed());
      Checkpoints.Snapshot snapshot = lora != null
          ? new Checkpoints.Snapshot(base.config(), policy.adapter(), policy.training().optimizer().moments(),
              policy.training().step(), cfg.lora(), lora.baseDir())
          : new Checkpoints.Snapshot(base.config(), policy.variables(), policy.training().optimizer().moments(),
              policy.training().step());
      return ckpts.save(iteration, snapshot, tok, state, runConfig, cfg.saveTotalLimit());
    }
  }

  /**
   * The importance weight of each completion token (1 without --is-correction): the ratio exp(ℓ_old − ℓ_sampler) of
   * the TensorFlow recomputation over ONNX Runtime's log-softmax at the same temperature, per token or (--is-mode
   * sequence-*) per sequence as the exp of the sum over its tokens, and above --is-cap truncated to it (*-truncate)
   * or masked to 0 (*-mask): TRL's correction for an inference engine that differs from the trainer, numerically
   * or by design (--rollout-dtype q8|q4).
   */
  private SamplerGap importanceWeights(RolloutBatch rb, float[][] oldLogp) {
    double gapSum = 0;
    double gapMax = 0;
    double wSum = 0;
    long tokens = 0;
    float[][] w = new float[rb.ids().length][rb.ids()[0].length];
    GrpoConfig.IsMode mode = cfg.isMode();
    for (int r = 0; r < w.length; r++) {
      double sequenceGap = 0;
      for (int j = 0; mode.sequence() && j < w[r].length; j++) {
        if (rb.mask()[r][j] != 0) {
          sequenceGap += oldLogp[r][j] - rb.samplerLogp()[r][j];
        }
      }
      for (int j = 0; j < w[r].length; j++) {
        if (rb.mask()[r][j] == 0) {
          continue;
        }
        double gap = oldLogp[r][j] - rb.samplerLogp()[r][j];
        gapSum += Math.abs(gap);
        gapMax = Math.max(gapMax, Math.abs(gap));
        double ratio = Math.exp(mode.sequence() ? sequenceGap : gap);
        w[r][j] = !cfg.isCorrection() ? 1f
            : (float) (ratio <= cfg.isCap() ? ratio : mode.mask() ? 0 : cfg.isCap());
        wSum += w[r][j];
        tokens++;
      }
    }
    return new SamplerGap(w, tokens == 0 ? 0 : gapSum / tokens, gapMax, tokens == 0 ? 1 : wSum / tokens);
  }

  /** The completion mask with rows that hit the length limit zeroed (--mask-truncated-completions). */
  private static float[][] withoutTruncated(RolloutBatch rb, List<Rollout> rollouts) {
    float[][] m = new float[rb.mask().length][];
    for (int r = 0; r < m.length; r++) {
      m[r] = rollouts.get(r).finishedByEos() ? rb.mask()[r] : new float[rb.mask()[r].length];
    }
    return m;
  }

  /** Log-probs of the batch's tokens, micro-batch by micro-batch; {@code adapterOff}: of the base alone. */
  private float[][] logprobs(PolicyGraph g, RolloutBatch rb, boolean adapterOff) {
    int rows = rb.ids().length;
    float[][] out = new float[rows][];
    for (int from = 0; from < rows; from += cfg.microBatchSize()) {
      int to = Math.min(rows, from + cfg.microBatchSize());
      float[][] lp = g.forward(new TokenBatch(slice(rb.ids(), from, to), slice(rb.targets(), from, to),
          slice(rb.attention(), from, to), slice(rb.positions(), from, to)), false, adapterOff).logprobs();
      System.arraycopy(lp, 0, out, from, to - from);
    }
    return out;
  }

  /** One pass of micro-batches accumulating the GRPO loss; returns the summed loss (the batch's loss value). */
  private double updatePass(PolicyGraph policy, RolloutBatch rb, float[][] mask, float[][] oldLogp, float[][] refLogp,
      float[] adv, float[][] isWeight, Map<String, Double> sums) {
    int rows = rb.ids().length;
    int len = rb.ids()[0].length;
    int[] rowTokens = new int[rows];
    long batchTokens = 0;
    for (int r = 0; r < rows; r++) {
      for (float m : mask[r]) {
        rowTokens[r] += (int) m;
      }
      batchTokens += rowTokens[r];
    }
    int micro = (rows + cfg.microBatchSize() - 1) / cfg.microBatchSize();
    double loss = 0;
    for (int from = 0; from < rows; from += cfg.microBatchSize()) {
      int to = Math.min(rows, from + cfg.microBatchSize());
      double[] w = cfg.lossType().rowWeights(Arrays.copyOfRange(rowTokens, from, to), rows, batchTokens, micro,
          cfg.maxCompletionLength());
      float[][] advRows = new float[to - from][len];
      float[][] tokenWeight = new float[to - from][len];
      for (int r = from; r < to; r++) {
        Arrays.fill(advRows[r - from], adv[r]);
        for (int j = 0; j < len; j++) {
          tokenWeight[r - from][j] = (float) (mask[r][j] * w[r - from]);
        }
      }
      TokenBatch tokens = new TokenBatch(rb.ids(), rb.targets(), rb.attention(), rb.positions()).slice(from, to);
      Map<String, Float> out = policy.training().accumulate(new GrpoLoss(), new GrpoLoss.Inputs(tokens,
          slice(oldLogp, from, to), slice(refLogp, from, to), advRows, slice(mask, from, to), tokenWeight,
          slice(isWeight, from, to),
          new GrpoLoss.Coefficients((float) cfg.beta(), (float) cfg.epsilon(), (float) cfg.epsilonHigh())));
      for (var e : out.entrySet()) {
        if (!e.getKey().equals("loss")) {
          sums.merge(e.getKey(), (double) e.getValue(), Double::sum);
        }
      }
      loss += out.get("loss");
    }
    return loss;
  }

  private static int[][] slice(int[][] a, int from, int to) {
    return Arrays.copyOfRange(a, from, to);
  }

  private static float[][] slice(float[][] a, int from, int to) {
    return Arrays.copyOfRange(a, from, to);
  }
}
