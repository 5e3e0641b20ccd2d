// The RLSR loop: P prompts -> G completions each from the ONNX Runtime policy -> embedding-cosine rewards against
// the references -> group-relative advantages -> ℓ_old (and ℓ_ref) in TensorFlow -> GRPO optimizer step(s) ->
// weight sync to a new ONNX Runtime session. Metrics, sample completions, atomic checkpoints and exact resume.
package dev.rlsr.rl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.graph.Feeds;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.train.LrSchedule;
import dev.rlsr.policy.train.MetricsLog;
import dev.rlsr.policy.train.Progress;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Tensor;

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

  /** One iteration's rollouts, laid out for TensorFlow: rows of prompt + completion, right-padded. */
  private record RolloutBatch(int[][] ids, int[][] targets, int[][] attention, int[][] positions, float[][] mask,
      int[] completionTokens, float[][] samplerLogp) {}

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
    try (HfModel base = HfModel.load(cfg.model())) {
      var tok = base.tokenizer();
      SftTokenizer prompts = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), Integer.MAX_VALUE);
      List<int[]> promptIds = new ArrayList<>();
      List<Example> usable = new ArrayList<>();
      for (Example e : examples) {
        if (e.response().isBlank()) {
          continue; // no reference, no reward
        }
        int[] p = prompts.encodePrompt(e, cfg.maxPromptLength());
        if (p.length == 0) {
          continue;
        }
        promptIds.add(p);
        usable.add(e);
      }
      if (usable.isEmpty()) {
        throw new RlsrException(cfg.data() + ": no usable rows (every row has an empty reference response or an empty prompt)");
      }
      if (usable.size() < cfg.promptsPerIteration()) {
        throw new RlsrException(cfg.data() + " has " + usable.size() + " usable prompts, fewer than --prompts-per-iteration "
            + cfg.promptsPerIteration() + ": lower --prompts-per-iteration or add data");
      }
      int longest = promptIds.stream().mapToInt(p -> p.length).max().orElse(0);
      PositionLimits.checkPromptPlusNew(base.config(), cfg.model(), longest, cfg.maxPromptLength(),
          "--max-prompt-length", cfg.maxCompletionLength(), "--max-completion-length");
      log.println("data: " + usable.size() + " usable of " + examples.size() + " rows; prompts cut to their last "
          + cfg.maxPromptLength() + " tokens: " + prompts.stats().promptsTruncated());
      if (latest.isPresent()) {
        Checkpoints.verifyRunConfig(latest.get(), runConfig, resumeOverride, log);
      }
      ckpts.cleanTemporary(log);

      int start = 0;
      ModelWeights weights = base.weights();
      PolicyGraph.OptimizerState optState = null;
      PromptOrder.State orderState = new PromptOrder.State(0, 0);
      long skipped = 0;
      if (latest.isPresent()) {
        Checkpoints.Loaded ck = Checkpoints.load(latest.get(), base.config());
        weights = ck.weights();
        optState = ck.optimizer();
        start = ck.trainerState().path("iteration").asInt();
        orderState = new PromptOrder.State(ck.trainerState().path("prompt_epoch").asInt(),
            ck.trainerState().path("prompt_position").asInt());
        skipped = ck.trainerState().path("skipped_steps").asLong();
        if (start > cfg.iterations()) {
          throw new RlsrException("--resume: " + latest.get() + " is at iteration " + start + ", past the "
              + cfg.iterations() + " --iterations of this run");
        }
        if (orderState.position() > usable.size()) { // only with --resume-override and other data
          log.println("--resume-override: the checkpoint's prompt position " + orderState.position() + " is past the "
              + usable.size() + " usable prompts of " + cfg.data() + "; continuing at the start of the next epoch");
          orderState = new PromptOrder.State(orderState.epoch() + 1, 0);
        }
        log.println("resumed from " + latest.get() + " at iteration " + start);
        if (start == cfg.iterations()) {
          log.println("--resume: " + latest.get().getFileName() + " is already at iteration " + start + " of "
              + cfg.iterations() + "; nothing to train, the final model is (re)published in " + cfg.out());
          ckpts.publish(latest.get());
          return new Summary(cfg.iterations(), Double.NaN, Double.NaN, skipped, cfg.out(), 0);
        }
      } else if (cfg.resume()) {
        log.println("--resume: no checkpoint in " + cfg.out() + ", starting from " + cfg.model());
      }
      Files.createDirectories(cfg.out());
      long totalSteps = (long) cfg.iterations() * cfg.numIterations();
      LrSchedule schedule = new LrSchedule(cfg.learningRate(), cfg.schedule(), cfg.warmupSteps(), totalSteps);
      PromptOrder order = new PromptOrder(usable.size(), cfg.seed(), orderState);
      SamplingOptions baseSampling = new SamplingOptions(cfg.maxCompletionLength(), cfg.temperature(), cfg.topK(),
          cfg.topP(), false, cfg.seed(), Arrays.stream(tok.eosIds()).boxed().toList(), tok.padId());
      // Rollouts need only the next-token logits: the LAST graph skips the [batch, prompt, vocab] prefill logits
      // (rlsr bench generate: 430 vs 370 tokens/s on the 5M model; far more memory saved at a 150k vocabulary).
      EngineOptions rolloutOptions = EngineOptions.of(cfg.threads(), cfg.device())
          .withMetadata(Map.of("rlsr.run_config", runConfig.toString()));
      PolicyGraph ref = cfg.beta() > 0
          ? PolicyGraph.create(base.weights(), PolicyGraph.Options.inference(cfg.threads()), List.of()) : null;
      RolloutEngine engine = null;
      long keep = cfg.resume() ? start : -1;
      try (PolicyGraph policy = PolicyGraph.create(weights, PolicyGraph.Options.training(cfg.threads()),
              List.of(new GrpoLoss()));
          MetricsLog metrics = new MetricsLog(cfg.out().resolve("metrics.jsonl"), "iteration", keep);
          MetricsLog completions = new MetricsLog(cfg.out().resolve("completions.jsonl"), "iteration", keep);
          Progress bar = new Progress("rlsr", cfg.iterations(), start)) {
        if (optState != null) {
          policy.setOptimizerState(optState);
        }
        policy.setTemperature((float) cfg.temperature());
        if (ref != null) {
          ref.setTemperature((float) cfg.temperature());
        }
        engine = RolloutEngines.open(RolloutEngines.Backend.ONNX, weights, rolloutOptions);
        double firstReward = Double.NaN;
        double lastReward = Double.NaN;
        double runningReward = Double.NaN;
        Path lastCkpt = latest.orElse(null);
        for (int it = start; it < cfg.iterations(); it++) {
          long tIter = System.nanoTime();
          int[] chosen = order.next(cfg.promptsPerIteration());
          int g = cfg.numGenerations();
          List<int[]> rowPrompts = new ArrayList<>();
          List<String> refs = new ArrayList<>();
          for (int p : chosen) {
            for (int k = 0; k < g; k++) {
              rowPrompts.add(promptIds.get(p));
              refs.add(usable.get(p).response());
            }
          }

          // 1. rollouts in ONNX Runtime on the current weights
          long t = System.nanoTime();
          List<Rollout> rollouts = new ArrayList<>();
          int chunk = cfg.rolloutRows();
          for (int from = 0; from < rowPrompts.size(); from += chunk) {
            long seed = mix(cfg.seed(), it, from);
            rollouts.addAll(engine.sample(rowPrompts.subList(from, Math.min(rowPrompts.size(), from + chunk)),
                baseSampling.withSeed(seed)));
          }
          double sRollout = (System.nanoTime() - t) / 1e9;

          // 2. rewards: cosine of completion and reference embeddings
          t = System.nanoTime();
          List<String> texts = new ArrayList<>();
          for (Rollout r : rollouts) {
            texts.add(tok.decode(r.tokens()));
          }
          float[] rewards = reward.score(texts, refs);
          double sReward = (System.nanoTime() - t) / 1e9;
          float[] adv = Advantages.compute(rewards, g, cfg.scaleRewards());

          // 3. log-probs of the sampled tokens: ℓ_old (policy before the update) and ℓ_ref, in TensorFlow
          t = System.nanoTime();
          RolloutBatch rb = layout(rowPrompts, rollouts);
          float[][] oldLogp = logprobs(policy, rb);
          float[][] refLogp = ref != null ? logprobs(ref, rb) : oldLogp;
          SamplerGap isw = importanceWeights(rb, oldLogp);
          double sLogprobs = (System.nanoTime() - t) / 1e9;

          // 4. GRPO update: num_iterations passes over this batch of rollouts
          t = System.nanoTime();
          float[][] lossMask = cfg.maskTruncatedCompletions() ? withoutTruncated(rb, rollouts) : rb.mask();
          Map<String, Double> sums = new HashMap<>();
          double loss = 0;
          double gradNorm = Double.NaN;
          double lr = Double.NaN;
          for (int mu = 0; mu < cfg.numIterations(); mu++) {
            sums.clear();
            loss = updatePass(policy, rb, lossMask, oldLogp, refLogp, adv, isw.weight(), sums);
            lr = schedule.at(policy.step() + skipped);
            if (!Double.isFinite(loss)) {
              policy.discardGradients();
              skipped++;
              log.println("iteration " + (it + 1) + ": non-finite loss (" + loss + "); step skipped, not applied"
                  + " (skipped so far: " + skipped + ")");
              continue;
            }
            PolicyGraph.StepResult step = policy.applyGradients(lr, cfg.weightDecay(), cfg.maxGradNorm());
            gradNorm = step.gradNorm();
            if (!step.applied()) {
              skipped++;
              log.println("iteration " + (it + 1) + ": non-finite gradient; step skipped, not applied (skipped so far: "
                  + skipped + ")");
            }
          }
          double sUpdate = (System.nanoTime() - t) / 1e9;

          // 5. weight sync: the updated TensorFlow weights become a new ONNX Runtime session
          t = System.nanoTime();
          ModelWeights updated = policy.getWeights();
          engine.sync(updated);
          double sSync = (System.nanoTime() - t) / 1e9;

          // metrics
          double rewardMean = mean(rewards);
          if (Double.isNaN(firstReward)) {
            firstReward = rewardMean;
          }
          lastReward = rewardMean;
          runningReward = Double.isNaN(runningReward) ? rewardMean : 0.9 * runningReward + 0.1 * rewardMean;
          double iterSeconds = (System.nanoTime() - tIter) / 1e9;
          ObjectNode row = metricsRow(it + 1, rewards, rollouts, sums, isw, loss, lr, gradNorm, skipped);
          row.put("seconds_rollout", sRollout);
          row.put("seconds_reward", sReward);
          row.put("seconds_logprobs", sLogprobs);
          row.put("seconds_update", sUpdate);
          row.put("seconds_sync", sSync);
          row.put("seconds_iteration", iterSeconds);
          row.put("tokens_per_second", row.get("completion_tokens").asDouble() / iterSeconds);
          metrics.write(row);
          int stride = Math.max(1, rollouts.size() / Math.max(1, cfg.logCompletions()));
          for (int r = 0, n = 0; r < rollouts.size() && n < cfg.logCompletions(); r += stride, n++) {
            ObjectNode c = Json.MAPPER.createObjectNode();
            c.put("iteration", it + 1);
            c.put("prompt", usable.get(chosen[r / g]).promptText());
            c.put("completion", texts.get(r));
            c.put("reference", refs.get(r));
            c.put("reward", rewards[r]);
            c.put("advantage", adv[r]);
            completions.write(c);
          }
          bar.step(it + 1, String.format("reward %.3f (avg %.3f)", rewardMean, runningReward));

          boolean last = it + 1 == cfg.iterations();
          if (last || (cfg.saveEvery() > 0 && (it + 1) % cfg.saveEvery() == 0)) {
            ObjectNode state = Json.MAPPER.createObjectNode();
            state.put("iteration", it + 1);
            state.put("prompt_epoch", order.state().epoch());
            state.put("prompt_position", order.state().position());
            state.put("optimizer_step", policy.step());
            state.put("skipped_steps", skipped);
            state.put("seed", cfg.seed());
            lastCkpt = ckpts.save(it + 1, updated, tok, policy.getOptimizerState(), state, runConfig,
                cfg.saveTotalLimit());
          }
        }
        if (lastCkpt != null) {
          ckpts.publish(lastCkpt);
        }
        Plots.write(cfg.out().resolve("metrics.jsonl"), cfg.out().resolve("plots"));
        return new Summary(cfg.iterations(), firstReward, lastReward, skipped, cfg.out(), cfg.iterations() - start);
      } finally {
        if (engine != null) {
          engine.close();
        }
        if (ref != null) {
          ref.close();
        }
      }
    } catch (java.io.IOException e) {
      throw new RlsrException(cfg.out() + ": " + e.getMessage(), e);
    }
  }

  /** The ONNX Runtime / TensorFlow log-prob gap on completion tokens, and the truncated IS weights from it. */
  private record SamplerGap(float[][] weight, double gapMean, double gapMax, double weightMean) {}

  /**
   * w = min(exp(ℓ_old − ℓ_sampler), cap) per completion token (1 without --is-correction), where ℓ_old is the
   * TensorFlow recomputation and ℓ_sampler ONNX Runtime's log-softmax at the same temperature: TRL's truncated
   * importance-sampling correction for an inference engine that differs numerically from the trainer.
   */
  private SamplerGap importanceWeights(RolloutBatch rb, float[][] oldLogp) {
    double gapSum = 0;
    double gapMax = 0;
    double wSum = 0;
    long tokens = 0;
    float[][] w = new float[rb.ids().length][rb.ids()[0].length];
    for (int r = 0; r < w.length; r++) {
      for (int j = 0; j < w[r].length; j++) {
        if (rb.mask()[r][j] == 0) {
          continue;
        }
        double gap = oldLogp[r][j] - rb.samplerLogp()[r][j];
        gapSum += Math.abs(gap);
        gapMax = Math.max(gapMax, Math.abs(gap));
        w[r][j] = cfg.isCorrection() ? (float) Math.min(Math.exp(gap), cfg.isCap()) : 1f;
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

  /** One metrics.jsonl row (timings are added by the caller). KL, clipping and entropy are means over tokens. */
  private ObjectNode metricsRow(int iteration, float[] rewards, List<Rollout> rollouts, Map<String, Double> sums,
      SamplerGap isw, double loss, double lr, double gradNorm, long skipped) {
    int[] lens = rollouts.stream().mapToInt(r -> r.tokens().length).toArray();
    long generated = Arrays.stream(lens).sum();
    long truncated = rollouts.stream().filter(r -> !r.finishedByEos()).count();
    double tokens = Math.max(1, sums.getOrDefault("mask_sum", 0.0));
    double low = sums.getOrDefault("clip_low_sum", 0.0);
    double high = sums.getOrDefault("clip_high_sum", 0.0);
    double[] r = toDouble(rewards);
    ObjectNode row = Json.MAPPER.createObjectNode();
    row.put("iteration", iteration);
    row.put("reward_mean", mean(rewards));
    row.put("reward_std", Advantages.std(rewards, 0, rewards.length));
    row.put("reward_min", Arrays.stream(r).min().orElse(0));
    row.put("reward_max", Arrays.stream(r).max().orElse(0));
    row.put("frac_reward_zero_std", Advantages.fractionZeroStd(rewards, cfg.numGenerations()));
    row.put("kl", sums.getOrDefault("kl_sum", 0.0) / tokens);
    row.put("clip_fraction", (low + high) / tokens);
    row.put("clip_low_fraction", low / tokens);
    row.put("clip_high_fraction", high / tokens);
    row.put("loss", loss);
    row.put("entropy", sums.getOrDefault("entropy_sum", 0.0) / tokens);
    row.put("completion_tokens", generated);
    row.put("completion_length_mean", (double) generated / lens.length);
    row.put("completion_length_min", Arrays.stream(lens).min().orElse(0));
    row.put("completion_length_max", Arrays.stream(lens).max().orElse(0));
    row.put("truncated_fraction", (double) truncated / lens.length);
    row.put("learning_rate", lr);
    row.put("grad_norm", gradNorm);
    row.put("logprob_gap_mean", isw.gapMean());
    row.put("logprob_gap_max", isw.gapMax());
    row.put("is_weight_mean", isw.weightMean());
    row.put("skipped_steps", skipped);
    return row;
  }

  /** Seed of one sampling call, from the run seed, the iteration and the chunk. */
  static long mix(long seed, long iteration, long chunk) {
    long h = seed * 0x9E3779B97F4A7C15L + iteration * 0xBF58476D1CE4E5B9L + chunk * 0x94D049BB133111EBL;
    h ^= h >>> 31;
    return h;
  }

  /** Rows = prompt ⊕ completion, right-padded; targets are next tokens; the mask marks completion targets. */
  private static RolloutBatch layout(List<int[]> prompts, List<Rollout> rollouts) {
    int rows = prompts.size();
    int len = 1;
    for (int r = 0; r < rows; r++) {
      len = Math.max(len, prompts.get(r).length + rollouts.get(r).tokens().length);
    }
    int[][] ids = new int[rows][len];
    int[][] targets = new int[rows][len];
    int[][] attention = new int[rows][len];
    int[][] positions = new int[rows][len];
    float[][] mask = new float[rows][len];
    float[][] sampler = new float[rows][len];
    int[] completionTokens = new int[rows];
    for (int r = 0; r < rows; r++) {
      int[] p = prompts.get(r);
      Rollout ro = rollouts.get(r);
      int[] c = ro.tokens();
      int n = p.length + c.length;
      for (int j = 0; j < len; j++) {
        positions[r][j] = j;
      }
      System.arraycopy(p, 0, ids[r], 0, p.length);
      System.arraycopy(c, 0, ids[r], p.length, c.length);
      for (int j = 0; j < n; j++) {
        attention[r][j] = 1;
        if (j + 1 < n) {
          targets[r][j] = ids[r][j + 1];
        }
      }
      for (int k = 0; k < c.length; k++) {
        int pos = p.length - 1 + k; // position whose next token is completion token k
        mask[r][pos] = 1f;
        sampler[r][pos] = ro.policyLogProbs()[k];
      }
      completionTokens[r] = c.length;
    }
    return new RolloutBatch(ids, targets, attention, positions, mask, completionTokens, sampler);
  }

  private float[][] logprobs(PolicyGraph g, RolloutBatch rb) {
    int rows = rb.ids().length;
    float[][] out = new float[rows][];
    for (int from = 0; from < rows; from += cfg.microBatchSize()) {
      int to = Math.min(rows, from + cfg.microBatchSize());
      float[][] lp = g.forward(slice(rb.ids(), from, to), slice(rb.targets(), from, to), slice(rb.attention(), from, to),
          slice(rb.positions(), from, to), false).logprobs();
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
      List<Tensor> open = new ArrayList<>();
      try {
        Map<String, Tensor> feeds = new HashMap<>();
        feeds.put(GrpoLoss.OLD_LOGP, track(open, Feeds.floats(slice(oldLogp, from, to))));
        feeds.put(GrpoLoss.REF_LOGP, track(open, Feeds.floats(slice(refLogp, from, to))));
        feeds.put(GrpoLoss.ADVANTAGES, track(open, Feeds.floats(advRows)));
        feeds.put(GrpoLoss.MASK, track(open, Feeds.floats(slice(mask, from, to))));
        feeds.put(GrpoLoss.TOKEN_WEIGHT, track(open, Feeds.floats(tokenWeight)));
        feeds.put(GrpoLoss.IS_WEIGHT, track(open, Feeds.floats(slice(isWeight, from, to))));
        feeds.put(GrpoLoss.BETA, track(open, Feeds.scalar((float) cfg.beta())));
        feeds.put(GrpoLoss.EPSILON_LOW, track(open, Feeds.scalar((float) cfg.epsilon())));
        feeds.put(GrpoLoss.EPSILON_HIGH, track(open, Feeds.scalar((float) cfg.epsilonHigh())));
        Map<String, Float> out = policy.accumulate(GrpoLoss.NAME, slice(rb.ids(), from, to), slice(rb.targets(), from, to),
            slice(rb.attention(), from, to), slice(rb.positions(), from, to), feeds);
        for (var e : out.entrySet()) {
          if (!e.getKey().equals("loss")) {
            sums.merge(e.getKey(), (double) e.getValue(), Double::sum);
          }
        }
        loss += out.get("loss");
      } finally {
        open.forEach(Tensor::close);
      }
    }
    return loss;
  }

  private static Tensor track(List<Tensor> open, Tensor t) {
    open.add(t);
    return t;
  }

  private static int[][] slice(int[][] a, int from, int to) {
    return Arrays.copyOfRange(a, from, to);
  }

  private static float[][] slice(float[][] a, int from, int to) {
    return Arrays.copyOfRange(a, from, to);
  }

  private static double mean(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v;
    }
    return x.length == 0 ? 0 : s / x.length;
  }

  private static double[] toDouble(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }
}
