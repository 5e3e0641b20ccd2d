// `rlsr demo`: the whole mission on the project's own base model — SFT, RLSR and SFT+RLSR with equal compute
// budgets on the built-in data, evaluation of all four models on held-out prompts, one comparison table, a
// Markdown report with the plots, and the best model exported to ONNX and answering a held-out prompt.
package dev.rlsr.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.eval.EvalRows;
import dev.rlsr.eval.Evaluator;
import dev.rlsr.eval.WinRate;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.rl.RlsrTrainer;
import dev.rlsr.export.runtime.OrtRolloutEngine;
import dev.rlsr.export.Device;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.train.SftOptions;
import dev.rlsr.train.SftTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class DemoRun {
  /**
   * The demo's settings; the defaults are the {@code DEFAULT_*} constants (those of {@code rlsr demo}'s flags are
   * strings, as picocli takes them). Build with {@link #builder()}.
   *
   * @param out            run directory
   * @param budget         training sequences through forward+backward per recipe: SFT takes budget / sftBatch
   *                       steps, RLSR budget / (P*G) iterations, SFT+RLSR half of each
   * @param sftBatch       SFT batch size
   * @param sftLr          SFT peak learning rate (for a 1.8M-parameter model)
   * @param rlLr           RLSR learning rate
   * @param prompts        RLSR prompts per iteration P
   * @param generations    RLSR completions per prompt G
   * @param maxNewTokens   completion / answer length (demo answers are one short sentence)
   * @param evalLimit      held-out prompts evaluated (0 = all)
   * @param seed           data order and sampling
   * @param threads        TensorFlow and ONNX Runtime threads
   */
  public record Options(Path out, int budget, int sftBatch, double sftLr, double rlLr, int prompts, int generations,
      int maxNewTokens, int evalLimit, long seed, int threads) {
    public static final String DEFAULT_OUT = "runs/demo";
    public static final String DEFAULT_BUDGET = "6144";
    public static final int DEFAULT_SFT_BATCH = 16;
    public static final String DEFAULT_SFT_LR = "1e-3";
    public static final String DEFAULT_RL_LR = "1e-4";
    public static final int DEFAULT_PROMPTS = 8;
    public static final int DEFAULT_GENERATIONS = 8;
    public static final int DEFAULT_MAX_NEW_TOKENS = 24;
    public static final String DEFAULT_EVAL_LIMIT = "200";
    public static final String DEFAULT_SEED = "42";

    public static Builder builder() {
      return new Builder();
    }

    public int sftSteps(double share) {
      return Math.max(1, (int) Math.round(budget * share / sftBatch));
    }

    public int rlIterations(double share) {
      return Math.max(1, (int) Math.round(budget * share / (prompts * generations)));
    }

    /** Starts from the defaults. */
    public static final class Builder {
      private Path out = Path.of(DEFAULT_OUT);
      private int budget = Integer.parseInt(DEFAULT_BUDGET);
      private int sftBatch = DEFAULT_SFT_BATCH;
      private double sftLr = Double.parseDouble(DEFAULT_SFT_LR);
      private double rlLr = Double.parseDouble(DEFAULT_RL_LR);
      private int prompts = DEFAULT_PROMPTS;
      private int generations = DEFAULT_GENERATIONS;
      private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
      private int evalLimit = Integer.parseInt(DEFAULT_EVAL_LIMIT);
      private long seed = Long.parseLong(DEFAULT_SEED);
      private int threads = Runtime.getRuntime().availableProcessors();

      private Builder() {}

      public Builder out(Path v) { out = v; return this; }
      public Builder budget(int v) { budget = v; return this; }
      public Builder sftBatch(int v) { sftBatch = v; return this; }
      public Builder sftLr(double v) { sftLr = v; return this; }
      public Builder rlLr(double v) { rlLr = v; return this; }
      public Builder prompts(int v) { prompts = v; return this; }
      public Builder generations(int v) { generations = v; return this; }
      public Builder maxNewTokens(int v) { maxNewTokens = v; return this; }
      public Builder evalLimit(int v) { evalLimit = v; return this; }
      public Builder seed(long v) { seed = v; return this; }
      public Builder threads(int v) { threads = v; return this; }

      public Options build() {
        return new Options(out, budget, sftBatch, sftLr, rlLr, prompts, generations, maxNewTokens, evalLimit, seed,
            threads);
      }
    }
  }

  /** The SFT model after half the budget, the starting point of SFT+RLSR (a reference row, not a recipe). */
  public static final String HALF_SFT = "SFT, half budget";

  /** One evaluated model: its name, directory, eval file and scores. */
  public record Entry(String name, Path model, Path evalFile, Evaluator.Summary summary) {}

  private final Options o;
  private final PrintWriter log;

  public DemoRun(Options options, PrintWriter log) {
    this.o = options;
    this.log = log;
  }

  public List<Entry> run() {
    long t0 = System.nanoTime();
    try {
      Files.createDirectories(o.out());
      Path data = o.out().resolve("data");
      DemoData.generate(DemoBaseModel.Recipe.DEFAULT.seed()).write(data);
      List<Example> train = JsonlDataset.read(data.resolve(DemoData.TRAIN_FILE));
      List<Example> eval = JsonlDataset.read(data.resolve(DemoData.EVAL_FILE));
      if (o.evalLimit() > 0 && eval.size() > o.evalLimit()) {
        eval = eval.subList(0, o.evalLimit());
      }
      Path base = DemoBaseModel.ensure(o.out().resolve("base-model-cache"), DemoBaseModel.Recipe.DEFAULT, o.threads(), log);
      step("base model " + base + "; data " + train.size() + " train / " + eval.size() + " held-out prompts", t0);

      try (SentenceEmbedder embedder = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, o.threads());
          SentenceEmbedder judge = SentenceEmbedder.load(SentenceEmbedder.E5_SMALL_V2, o.threads())) {
        EmbeddingReward reward = new EmbeddingReward(embedder);
        Path sft = sft(base, data, o.out().resolve("sft"), o.sftSteps(1.0));
        step("SFT: " + o.sftSteps(1.0) + " steps x " + o.sftBatch(), t0);
        Path rlsr = rlsr(base, data, o.out().resolve("rlsr"), o.rlIterations(1.0), train, reward);
        step("RLSR: " + o.rlIterations(1.0) + " iterations x " + o.prompts() + "x" + o.generations(), t0);
        Path sftHalf = sft(base, data, o.out().resolve("sft-half"), o.sftSteps(0.5));
        Path sftRlsr = rlsr(sftHalf, data, o.out().resolve("sft-rlsr"), o.rlIterations(0.5), train, reward);
        step("SFT+RLSR: " + o.sftSteps(0.5) + " SFT steps, then " + o.rlIterations(0.5) + " RLSR iterations", t0);

        Evaluator.Options eo = new Evaluator.Options(Integer.parseInt(Evaluator.Options.DEFAULT_MAX_PROMPT_LENGTH),
            o.maxNewTokens(), 32, o.threads(), Device.CPU);
        List<Entry> entries = new ArrayList<>();
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("base", base);
        models.put("SFT", sft);
        models.put("RLSR", rlsr);
        models.put("SFT+RLSR", sftRlsr);
        models.put(HALF_SFT, sftHalf); // where SFT+RLSR started: shows what its RLSR half added
        for (var m : models.entrySet()) {
          Path f = o.out().resolve("eval").resolve(m.getKey().toLowerCase().replaceAll("[^a-z]+", "-") + ".jsonl");
          entries.add(new Entry(m.getKey(), m.getValue(), f, Evaluator.run(m.getValue(), eval, embedder, judge, f, eo)));
        }
        step("evaluated " + entries.size() + " models on " + eval.size() + " held-out prompts", t0);
        return entries;
      }
    } catch (IOException e) {
      throw new RlsrException(o.out() + ": " + e.getMessage(), e);
    }
  }

  private void step(String what, long t0) {
    log.printf("[demo %5.0fs] %s%n", (System.nanoTime() - t0) / 1e9, what);
    log.flush();
  }

  private Path sft(Path base, Path data, Path out, int steps) {
    SftOptions so = SftOptions.builder().model(base).data(data.resolve(DemoData.TRAIN_FILE)).out(out).maxSteps(steps)
        .batchSize(o.sftBatch()).learningRate(o.sftLr()).warmupSteps(Math.max(1, steps / 20)).maxSeqLen(96)
        .seed(o.seed()).saveTotalLimit(1).threads(o.threads()).build();
    new SftTrainer(so, log).run(JsonlDataset.read(so.data()));
    return out;
  }

  private Path rlsr(Path model, Path data, Path out, int iterations, List<Example> train, EmbeddingReward reward) {
    GrpoConfig c = GrpoConfig.builder().model(model).data(data.resolve(DemoData.TRAIN_FILE)).out(out)
        .iterations(iterations).promptsPerIteration(o.prompts()).numGenerations(o.generations()).maxPromptLength(128)
        .maxCompletionLength(o.maxNewTokens()).learningRate(o.rlLr()).seed(o.seed()).saveEvery(0).saveTotalLimit(1)
        .microBatchSize(32).logCompletions(4).threads(o.threads()).build();
    new RlsrTrainer(c, log).run(train, reward::score);
    return out;
  }

  /**
   * Answers a prompt with an exported ONNX directory alone (model.onnx, config.json, tokenizer files): what a
   * serving consumer does, greedy, with the KV cache.
   */
  public static String answerWithOnnx(Path onnxDir, Example prompt, int maxNewTokens, int threads) {
    ModelConfig c = ModelConfig.read(onnxDir.resolve("config.json"));
    try (Tokenizer tok = Tokenizer.load(onnxDir);
        RolloutEngine engine = OrtRolloutEngine.open(onnxDir.resolve("model.onnx"), c, threads, Device.CPU)) {
      int[] ids = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), Integer.MAX_VALUE).promptIds(prompt);
      var greedy = SamplingOptions.greedy(maxNewTokens, java.util.Arrays.stream(tok.eosIds()).boxed().toList(), tok.padId());
      Rollout r = engine.sample(List.of(ids), greedy).get(0);
      return tok.decode(r.tokens()).strip();
    }
  }

  /** The comparison table (Markdown): rewards, ROUGE-L, and judge win rates against SFT and the base model. */
  public static String table(List<Entry> entries) {
    Map<String, double[]> judge = new LinkedHashMap<>();
    for (Entry e : entries) {
      judge.put(e.name(), EvalRows.read(e.evalFile()).stream().mapToDouble(r -> r.json().path("judge_reward").asDouble()).toArray());
    }
    StringBuilder sb = new StringBuilder();
    sb.append("| model | reward (MiniLM) | judge (e5-small-v2) | ROUGE-L | win rate vs SFT | win rate vs base |\n");
    sb.append("|---|---|---|---|---|---|\n");
    for (Entry e : entries) {
      double vsSft = WinRate.fromScores(judge.get(e.name()), judge.get("SFT")).winRate();
      double vsBase = WinRate.fromScores(judge.get(e.name()), judge.get("base")).winRate();
      sb.append(String.format("| %s | %.3f | %.3f | %.3f | %s | %s |%n", e.name(), e.summary().rewardMean(),
          e.summary().judgeRewardMean(), e.summary().rougeLMean(),
          e.name().equals("SFT") ? "—" : String.format("%.1f%%", 100 * vsSft),
          e.name().equals("base") ? "—" : String.format("%.1f%%", 100 * vsBase)));
    }
    return sb.toString();
  }

  /** The entry with the highest judge reward among the three recipes. */
  public static Entry best(List<Entry> entries) {
    Entry best = null;
    for (Entry e : entries) {
      if (!e.name().equals("base") && !e.name().equals(HALF_SFT) && (best == null || e.summary().judgeRewardMean() > best.summary().judgeRewardMean())) {
        best = e;
      }
    }
    return best;
  }

  /** report.md: the table, the plots of the RL runs, sample answers. */
  public static Path report(Path out, List<Entry> entries, String table, String answerPrompt, String answer)
      throws IOException {
    Path plots = out.resolve("report-plots");
    Files.createDirectories(plots);
    StringBuilder sb = new StringBuilder("# rlsr demo\n\n");
    sb.append("Base model: `models/demo-base` (pretrained by rlsr on its synthetic corpus). Held-out prompts use slot ")
        .append("combinations never seen in training. Win rate: share of prompts where the judge encoder places the ")
        .append("model's answer closer to the reference than the other model's (ties count half).\n\n");
    sb.append(table).append('\n');
    for (String run : List.of("rlsr", "sft-rlsr")) {
      for (String p : List.of("reward", "kl", "completion_length")) {
        Path src = out.resolve(run).resolve("plots").resolve(p + ".png");
        if (Files.exists(src)) {
          Path dst = plots.resolve(run + "-" + p + ".png");
          Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
          sb.append("![").append(run).append(' ').append(p).append("](report-plots/").append(dst.getFileName()).append(")\n");
        }
      }
    }
    sb.append("\n## Sample answers (held-out)\n\n| prompt | reference |");
    for (Entry e : entries) {
      sb.append(' ').append(e.name()).append(" |");
    }
    sb.append("\n|---|---|").append("---|".repeat(entries.size())).append('\n');
    List<List<JsonNode>> rows = new ArrayList<>();
    for (Entry e : entries) {
      rows.add(EvalRows.read(e.evalFile()).stream().map(r -> (JsonNode) r.json()).toList());
    }
    for (int i = 0; i < Math.min(8, rows.get(0).size()); i++) {
      sb.append("| ").append(cell(rows.get(0).get(i).path("prompt").asText())).append(" | ")
          .append(cell(rows.get(0).get(i).path("reference").asText())).append(" |");
      for (List<JsonNode> r : rows) {
        sb.append(' ').append(cell(r.get(i).path("response").asText())).append(" |");
      }
      sb.append('\n');
    }
    if (answerPrompt != null) {
      sb.append("\n## The exported ONNX model answers\n\n> ").append(answerPrompt).append("\n\n").append(answer).append('\n');
    }
    Path f = out.resolve("report.md");
    Files.writeString(f, sb.toString());
    return f;
  }

  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }

  public static ObjectNode summaryJson(List<Entry> entries) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    for (Entry e : entries) {
      o.set(e.name(), e.summary().toJson());
    }
    return o;
  }
}
