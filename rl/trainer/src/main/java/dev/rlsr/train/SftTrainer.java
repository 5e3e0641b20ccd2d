// The SFT loop: tokenized examples -> shuffled micro-batches -> masked NLL in the TensorFlow graph -> AdamW steps,
// with metrics.jsonl, a progress bar, atomic checkpoints and exact resume. Also pretrains on raw text (runTexts).
package dev.rlsr.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.data.Batches;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.data.TokenizedExample;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.graph.SftLoss;
import dev.rlsr.policy.graph.TokenBatch;
import dev.rlsr.policy.graph.Training;
import dev.rlsr.policy.optim.AdamW;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public final class SftTrainer {
  /** What a finished run reports. */
  /**
   * What a finished run reports; {@code stepsRun} counts the steps of this invocation (0 when a resumed run was
   * already complete), and the losses are NaN when no step of this invocation had a finite loss.
   */
  public record Summary(long steps, double firstLoss, double lastLoss, long skippedSteps, double tokensPerSecond,
      Path finalModel, long stepsRun) {}

  private final SftOptions opt;
  private final PrintWriter log;
  private boolean resumeOverride;

  public SftTrainer(SftOptions options, PrintWriter log) {
    this.opt = options.validate();
    this.log = log;
  }

  /** --resume-override: resume even when options that change the run differ from the checkpoint's run config. */
  public SftTrainer resumeOverride(boolean override) {
    this.resumeOverride = override;
    return this;
  }

  /** Runs SFT on examples already read (the CLI reads and validates the JSONL file first). */
  public Summary run(List<Example> examples) {
    return train(base -> {
      SftTokenizer sftTok = new SftTokenizer(base.tokenizer(), PromptRenderer.forTokenizer(base.tokenizer()),
          opt.maxSeqLen());
      List<TokenizedExample> data = new ArrayList<>();
      for (TokenizedExample t : sftTok.encodeAll(examples)) {
        data.add(opt.promptLoss() ? new TokenizedExample(t.ids(), 1) : t);
      }
      log.println("data: " + examples.size() + " examples, " + sftTok.stats());
      if (data.isEmpty()) {
        throw new RlsrException(opt.data() + ": no usable examples (every prompt is longer than --max-seq-len "
            + opt.maxSeqLen() + ")");
      }
      return data;
    });
  }

  /**
   * Pretraining on raw text: each document becomes {@code [BOS when the tokenizer adds one] + encode(text) + [EOS]}
   * with the loss on every token after the first (no prompt template, no prompt mask, whatever
   * {@link SftOptions#promptLoss} says). A document longer than {@code maxSeqLen} tokens is cut on the right and
   * loses its EOS. Blank documents are skipped.
   */
  public Summary runTexts(List<String> documents) {
    return train(base -> {
      var tok = base.tokenizer();
      int[] eos = tok.eosIds();
      if (eos.length == 0) {
        throw new RlsrException(tok.modelDir() + ": no EOS token (set eos_token in tokenizer_config.json)");
      }
      boolean bos = tok.addBosToPrompt() && tok.bosId() >= 0;
      List<TokenizedExample> data = new ArrayList<>(documents.size());
      long truncated = 0;
      for (String doc : documents) {
        if (doc.isBlank()) {
          continue;
        }
        int[] text = tok.encode(doc);
        int full = (bos ? 1 : 0) + text.length + 1;
        int[] ids = new int[Math.min(full, opt.maxSeqLen())];
        int at = 0;
        if (bos) {
          ids[at++] = tok.bosId();
        }
        int n = Math.min(text.length, ids.length - at);
        System.arraycopy(text, 0, ids, at, n);
        if (full <= opt.maxSeqLen()) {
          ids[ids.length - 1] = eos[0];
        } else {
          truncated++;
        }
        data.add(new TokenizedExample(ids, 1));
      }
      log.println("data: " + data.size() + " documents, " + truncated + " cut to --max-seq-len " + opt.maxSeqLen());
      if (data.isEmpty()) {
        throw new RlsrException(opt.data() + ": no text to train on (every line is blank)");
      }
      return data;
    });
  }

  /** The loop shared by SFT and pretraining; {@code prepare} builds the training data with the loaded base model. */
  private Summary train(java.util.function.Function<HfModel, List<TokenizedExample>> prepare) {
    Checkpoints ckpts = new Checkpoints(opt.out());
    var latest = ckpts.forRun(opt.resume());
    if (opt.resume() && latest.isEmpty()) {
      log.println("--resume: no checkpoint in " + opt.out() + ", starting from " + opt.model());
    }
    Phases phases = new Phases(log);
    phases.loading(opt.model());
    try (HfModel base = HfModel.load(opt.model())) {
      int limit = base.config().maxPositions();
      if (opt.maxSeqLen() > limit) {
        throw new RlsrException("--max-seq-len " + opt.maxSeqLen() + " exceeds the model's max_position_embeddings "
            + limit + " (" + opt.model().resolve(HfModel.CONFIG) + "): use --max-seq-len " + limit + " or less");
      }
      LoraRun lora = opt.lora() == null ? null : LoraRun.start(base, opt.model(), opt.lora());
      List<TokenizedExample> data = prepare.apply(base);
      long perStep = (long) opt.batchSize() * opt.gradAccum();
      long totalSteps = opt.maxSteps() > 0 ? opt.maxSteps() : opt.epochs() * ((data.size() + perStep - 1) / perStep);
      LrSchedule schedule = new LrSchedule(opt.learningRate(), opt.schedule(), opt.warmupSteps(), totalSteps);
      ObjectNode runConfig = opt.toJson();
      runConfig.put("total_steps", totalSteps);
      Checkpoints.recordData(runConfig, opt.data());
      if (latest.isPresent()) {
        Checkpoints.verifyRunConfig(latest.get(), runConfig, resumeOverride, log);
      }
      ckpts.cleanTemporary(log);

      long step = 0;
      Batches.State dataState = new Batches.State(0, 0);
      Checkpoints.Loaded ck = null; // open (its files mapped lazily) until the graph has taken its tensors
      long skippedBefore = 0;
      if (latest.isPresent()) {
        phases.begin("loading the checkpoint " + latest.get());
        ck = Checkpoints.load(latest.get(), base.config(), opt.lora());
        step = ck.trainerState().path("step").asLong();
        skippedBefore = ck.trainerState().path("skipped_steps").asLong();
        dataState = new Batches.State(ck.trainerState().path("data_epoch").asInt(),
            ck.trainerState().path("data_position").asInt());
        if (step > totalSteps) {
          ck.close();
          throw new RlsrException("--resume: " + latest.get() + " is at step " + step + ", past the " + totalSteps
              + " steps of this run (--max-steps / --epochs)");
        }
        if (dataState.position() > data.size()) { // only with --resume-override and other data
          log.println("--resume-override: the checkpoint's data position " + dataState.position() + " is past the "
              + data.size() + " examples of " + opt.data() + "; continuing at the start of the next epoch");
          dataState = new Batches.State(dataState.epoch() + 1, 0);
        }
        log.println("resumed from " + latest.get() + " at step " + step);
      }
      long endStep = opt.stopAfter() > 0 ? Math.min(totalSteps, opt.stopAfter()) : totalSteps;
      if (latest.isPresent() && step >= endStep) {
        ck.close();
        log.println("--resume: " + latest.get().getFileName() + " is already at step " + step + " of " + totalSteps
            + "; nothing to train" + (step == totalSteps ? ", the final model is (re)published in " + opt.out() : ""));
        if (step == totalSteps) {
          ckpts.publish(latest.get());
        }
        return new Summary(step, Double.NaN, Double.NaN, skippedBefore, 0, opt.out(), 0);
      }
      Files.createDirectories(opt.out());
      SftLoss sft = new SftLoss();
      phases.begin("building the TensorFlow graph (" + base.config().numLayers() + " layers, with gradients and AdamW"
          + (lora != null ? ", a rank-" + opt.lora().r() + " LoRA adapter on the frozen weights" : "")
          + ") and loading the weights");
      PolicyGraph graph;
      try {
        // the weights go from the files into the graph tensor by tensor: the base model (or the checkpoint) is
        // never whole on the Java heap. With an adapter the base is frozen and the checkpoint holds the adapter.
        PolicyGraph.Options options = PolicyGraph.Options.training(opt.threads()).withLora(opt.lora(), opt.seed());
        graph = PolicyGraph.create(base.config(), lora != null ? lora.base() : ck != null ? ck.weights()
            : base.tensors(), options, List.of(sft));
        try {
          if (lora != null && (ck != null || lora.adapter() != null)) {
            graph.setAdapter(ck != null ? ck.weights() : lora.adapter());
          }
          if (ck != null && ck.moments() != null) {
            graph.training().optimizer().restore(ck.moments(), ck.optimizerStep());
          }
        } catch (RuntimeException e) {
          graph.close();
          throw e;
        }
      } finally {
        if (ck != null) {
          ck.close();
        }
      }
      try (graph;
          MetricsLog metrics = new MetricsLog(opt.out().resolve("metrics.jsonl"), "step", opt.resume() ? step : -1);
          Progress bar = phases.progress(opt.promptLoss() ? "pretrain" : "sft", totalSteps, step,
              "first step (" + opt.batchSize() + " x up to " + opt.maxSeqLen() + " tokens)")) {
        Training training = graph.training();
        var it = new Batches.EpochIterator(data, opt.batchSize(), opt.seed(), base.tokenizer().padId(), false, dataState);
        double firstLoss = Double.NaN;
        double lastLoss = Double.NaN;
        long skipped = 0;
        long tokens = 0;
        long nanos = 0;
        long startStep = step;
        Path lastCkpt = latest.orElse(null);
        while (step < endStep) {
          long t0 = System.nanoTime();
          List<Batches.Batch> micro = new ArrayList<>();
          int lossTokens = 0;
          for (int i = 0; i < opt.gradAccum(); i++) {
            Batches.Batch b = it.next();
            micro.add(b);
            lossTokens += b.lossTokens();
          }
          float scale = 1f / Math.max(1, lossTokens);
          double loss = 0;
          long stepTokens = 0;
          for (Batches.Batch b : micro) {
            loss += training.accumulate(sft, inputs(b, scale)).get("loss");
            for (int m : b.attentionMask()) {
              stepTokens += m;
            }
          }
          double lr = schedule.at(step);
          AdamW.StepResult r = training.applyGradients(lr, opt.weightDecay(), opt.maxGradNorm());
          long dt = System.nanoTime() - t0;
          step++;
          boolean finite = r.applied() && Double.isFinite(loss);
          if (!finite) {
            skipped++;
            log.println("step " + step + ": non-finite loss or gradient; step skipped (skipped so far: " + skipped + ")");
          } else {
            if (Double.isNaN(firstLoss)) {
              firstLoss = loss;
            }
            lastLoss = loss;
          }
          tokens += stepTokens;
          nanos += dt;
          ObjectNode row = Json.MAPPER.createObjectNode();
          row.put("step", step);
          row.put("epoch", it.state().epoch() + (double) it.state().position() / data.size());
          row.put("loss", loss);
          row.put("learning_rate", lr);
          row.put("grad_norm", r.gradNorm());
          row.put("tokens_per_second", stepTokens / (dt / 1e9));
          row.put("skipped", !finite);
          metrics.write(row);
          bar.step(step, String.format("loss %.4f", loss));
          boolean last = step == endStep;
          if (last || (opt.saveEvery() > 0 && step % opt.saveEvery() == 0)) {
            ObjectNode state = Json.MAPPER.createObjectNode();
            state.put("data_epoch", it.state().epoch());
            state.put("data_position", it.state().position());
            state.put("optimizer_step", training.step());
            state.put("seed", opt.seed());
            state.put("skipped_steps", skipped);
            long t1 = System.nanoTime();
            Checkpoints.Snapshot snapshot = lora != null
                ? new Checkpoints.Snapshot(graph.config(), graph.adapter(), training.optimizer().moments(),
                    training.step(), opt.lora(), lora.baseDir())
                : new Checkpoints.Snapshot(graph.config(), graph.variables(), training.optimizer().moments(),
                    training.step());
            lastCkpt = ckpts.save(step, snapshot, base.tokenizer(), state, runConfig, opt.saveTotalLimit());
            log.printf("checkpoint %s written in %.1f s%n", lastCkpt.getFileName(), (System.nanoTime() - t1) / 1e9);
          }
        }
        if (lastCkpt != null && step == totalSteps) {
          ckpts.publish(lastCkpt);
        }
        return new Summary(step, firstLoss, lastLoss, skipped, nanos == 0 ? 0 : tokens / (nanos / 1e9), opt.out(),
            step - startStep);
      }
    } catch (java.io.IOException e) {
      throw new RlsrException(opt.out() + ": " + e.getMessage(), e);
    }
  }

  /** The SFT loss inputs of one micro-batch: its rows, the loss mask as floats, the optimizer batch's scale. */
  private static SftLoss.Inputs inputs(Batches.Batch b, float scale) {
    float[] lm = new float[b.lossMask().length];
    for (int i = 0; i < lm.length; i++) {
      lm[i] = b.lossMask()[i];
    }
    TokenBatch tokens = new TokenBatch(rows(b.inputIds(), b.batch(), b.seq()), rows(b.targets(), b.batch(), b.seq()),
        rows(b.attentionMask(), b.batch(), b.seq()), positions(b.batch(), b.seq()));
    return new SftLoss.Inputs(tokens, rows(lm, b.batch(), b.seq()), scale);
  }

  static int[][] rows(int[] flat, int b, int t) {
    int[][] out = new int[b][t];
    for (int i = 0; i < b; i++) {
      System.arraycopy(flat, i * t, out[i], 0, t);
    }
    return out;
  }

  static float[][] rows(float[] flat, int b, int t) {
    float[][] out = new float[b][t];
    for (int i = 0; i < b; i++) {
      System.arraycopy(flat, i * t, out[i], 0, t);
    }
    return out;
  }

  /** Right-padded rows: positions 0..T-1 (padding positions are masked anyway). */
  public static int[][] positions(int b, int t) {
    int[][] p = new int[b][t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        p[i][j] = j;
      }
    }
    return p;
  }
}
