// `rlsr bench dtypes`: what each export dtype (fp32, fp16, q8, q4) costs and changes on one model, in one run: file
// size, greedy decoding tokens/s with the KV cache, how many greedy answers stay the same, and the log-prob drift.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.runtime.OrtRolloutEngine;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.data.TokenizedExample;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.FlagChoices;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "dtypes", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Exports --model (or a built-in --shape) once per --dtypes as `rlsr export --dtype` writes it, then "
        + "for each file: its size; greedy decoding tokens/s with the KV cache (--batch prompts, --new-tokens, "
        + "median of --repeats after a warm-up); the fraction of --prompts whose greedy answer (--new-tokens tokens) "
        + "is the fp32 answer token for token; and the log-prob drift from fp32: the mean and largest |log p - log "
        + "p_fp32| over the reference responses' tokens (teacher-forced).",
        "Prompts and references come from --data (rendered as rlsr generate renders them) with --model, else random "
            + "ids of the shape's vocabulary.",
        "Writes {\"model\", \"params\", \"threads\", \"dtypes\": {name: {file, bytes, export_seconds, "
            + "tokens_per_second, greedy_identical_fraction, logprob_drift_mean, logprob_drift_max}}, "
            + "\"peak_rss_bytes\"} to --json."})
public final class BenchDtypesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;
  @Mixin BenchModelMixin source;
  @Mixin QuantizeMixin quantize;

  @Option(names = "--dtypes", split = ",", defaultValue = "fp32,fp16,q8,q4", description = "Dtypes compared, the first against fp32 (always run) (default: ${DEFAULT-VALUE}).")
  List<String> dtypeNames;

  @Option(names = "--data", description = "JSONL of (prompt, response) held-out pairs for --model (default: random ids).")
  Path data;

  @Option(names = "--prompts", defaultValue = "32", description = "Prompts whose greedy answers and reference log-probs are compared (default: ${DEFAULT-VALUE}).")
  int prompts;

  @Option(names = "--batch", defaultValue = "8", description = "Prompts per decoding batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--new-tokens", defaultValue = "32", description = "Greedy tokens per prompt (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(names = "--repeats", defaultValue = "2", description = "Timed decoding runs after a warm-up; the median counts (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--work-dir", description = "Where the exports are written; deleted afterwards (default: a temporary directory).")
  Path workDir;

  @Option(names = "--json", required = true, description = "File the results are written to.")
  Path json;

  /** A prompt and the reference response it is scored on. */
  private record Case(int[] prompt, int[] full, int promptLength) {}

  @Override
  public Integer call() throws Exception {
    if (prompts < 1 || batch < 1 || newTokens < 1 || repeats < 1) {
      throw new RlsrException("--prompts, --batch, --new-tokens and --repeats must be at least 1");
    }
    LinkedHashSet<ExportDtype> dtypes = new LinkedHashSet<>(List.of(ExportDtype.FP32));
    for (String d : dtypeNames) {
      dtypes.add(FlagChoices.parse("--dtypes", d.trim(), ExportDtype.values()));
    }
    quantize.check();
    if (data != null && source.modelDir() == null) {
      throw new RlsrException("--data goes with --model; a --shape benchmark draws random prompts");
    }
    PrintWriter out = spec.commandLine().getOut();
    Path work = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("rlsr-bench-dtypes");
    try (BenchModelMixin.Loaded loaded = source.open()) {
      ModelConfig c = loaded.config();
      List<Case> cases = cases(loaded);
      out.printf("bench dtypes: %s, %,d parameters, %d prompts (batch %d), %d new tokens, %d threads%n",
          loaded.name(), loaded.params(), cases.size(), batch, newTokens, threads.threads);
      out.flush();
      ObjectNode o = Json.MAPPER.createObjectNode();
      o.put("model", loaded.name());
      o.put("params", loaded.params());
      o.put("threads", threads.threads);
      ObjectNode all = o.putObject("dtypes");
      List<List<Integer>> fp32Answers = null;
      List<float[]> fp32Logprobs = null;
      out.printf("%-6s %-22s %10s %10s %12s %10s %10s%n", "dtype", "file", "MB", "export s", "tokens/s",
          "same ans", "drift");
      for (ExportDtype d : dtypes) {
        Path file = work.resolve(d.fileName());
        long t0 = System.nanoTime();
        OnnxPolicyExporter.writeModel(quantize.stored(c, d), loaded.weights(), file,
            Map.of());
        double exportSeconds = (System.nanoTime() - t0) / 1e9;
        long bytes = Files.size(file) + (Files.exists(work.resolve(d.dataFileName()))
            ? Files.size(work.resolve(d.dataFileName())) : 0);
        List<List<Integer>> answers = new ArrayList<>();
        List<float[]> logprobs = new ArrayList<>();
        double tokensPerSecond;
        try (OrtRolloutEngine e = OrtRolloutEngine.open(file, c, threads.threads, Device.CPU)) {
          SamplingOptions greedy = SamplingOptions.greedy(newTokens, List.of(), 0);
          List<int[]> first = new ArrayList<>();
          for (int i = 0; i < Math.min(batch, cases.size()); i++) {
            first.add(cases.get(i).prompt());
          }
          e.sample(first, greedy); // warm-up
          double[] ms = new double[repeats];
          for (int r = 0; r < repeats; r++) {
            long s0 = System.nanoTime();
            e.sample(first, greedy);
            ms[r] = (System.nanoTime() - s0) / 1e6;
          }
          tokensPerSecond = first.size() * (double) newTokens / (BenchModels.median(ms) / 1000);
          for (int from = 0; from < cases.size(); from += batch) {
            List<int[]> chunk = new ArrayList<>();
            for (int i = from; i < Math.min(cases.size(), from + batch); i++) {
              chunk.add(cases.get(i).prompt());
            }
            for (Rollout r : e.sample(chunk, greedy)) {
              answers.add(Arrays.stream(r.tokens()).boxed().toList());
            }
          }
          for (Case k : cases) {
            logprobs.add(referenceLogprobs(e, k, c.vocabSize()));
          }
        }
        if (fp32Answers == null) {
          fp32Answers = answers;
          fp32Logprobs = logprobs;
        }
        int same = 0;
        double sum = 0;
        double max = 0;
        long n = 0;
        for (int i = 0; i < cases.size(); i++) {
          same += answers.get(i).equals(fp32Answers.get(i)) ? 1 : 0;
          float[] a = logprobs.get(i);
          float[] b = fp32Logprobs.get(i);
          for (int t = 0; t < a.length; t++) {
            double diff = Math.abs(a[t] - b[t]);
            sum += diff;
            max = Math.max(max, diff);
            n++;
          }
        }
        ObjectNode row = all.putObject(d.toString());
        row.put("file", d.fileName());
        row.put("bytes", bytes);
        row.put("export_seconds", exportSeconds);
        row.put("tokens_per_second", tokensPerSecond);
        row.put("greedy_identical_fraction", same / (double) cases.size());
        row.put("logprob_drift_mean", n == 0 ? 0 : sum / n);
        row.put("logprob_drift_max", max);
        out.printf("%-6s %-22s %10.1f %10.1f %12.1f %9.0f%% %10.4f%n", d, d.fileName(), bytes / 1e6, exportSeconds,
            tokensPerSecond, 100.0 * same / cases.size(), n == 0 ? 0 : sum / n);
        out.flush();
        Files.deleteIfExists(file);
        Files.deleteIfExists(work.resolve(d.dataFileName()));
      }
      long rss = PeakMemory.peakResidentBytes();
      o.put("peak_rss_bytes", rss);
      out.printf("peak RSS %s%n", PeakMemory.gib(rss));
      Json.PRETTY.writeValue(json.toFile(), o);
      out.println("wrote " + json);
      return 0;
    } finally {
      if (workDir == null) {
        FileTrees.deleteTree(work);
      }
    }
  }

  /** --data's pairs rendered and tokenized as rlsr generate and sft do, or random prompts and references. */
  private List<Case> cases(BenchModelMixin.Loaded loaded) {
    List<Case> out = new ArrayList<>();
    int maxLen = Math.min(loaded.config().maxPositions(), 256);
    if (data != null) {
      try (HfModel m = HfModel.load(source.modelDir())) {
        SftTokenizer st = new SftTokenizer(m.tokenizer(), PromptRenderer.forTokenizer(m.tokenizer()),
            maxLen - newTokens);
        for (Example e : JsonlDataset.read(data)) {
          Optional<TokenizedExample> t = st.encode(e);
          if (t.isPresent()) {
            int[] ids = t.get().ids();
            out.add(new Case(Arrays.copyOf(ids, t.get().promptLength()), ids, t.get().promptLength()));
          }
          if (out.size() == prompts) {
            break;
          }
        }
      }
      if (out.isEmpty()) {
        throw new RlsrException("--data " + data + ": no example fits " + (maxLen - newTokens) + " tokens");
      }
      return out;
    }
    SplittableRandom rng = new SplittableRandom(11);
    for (int i = 0; i < prompts; i++) {
      int[] full = rng.ints(48, 0, loaded.promptVocab()).toArray();
      out.add(new Case(Arrays.copyOf(full, 16), full, 16));
    }
    return out;
  }

  /** log p of each reference token given what precedes it, from the file's all-positions logits. */
  private static float[] referenceLogprobs(OrtRolloutEngine e, Case k, int vocab) {
    int[][] ids = {k.full()};
    int[][] mask = new int[1][k.full().length];
    Arrays.fill(mask[0], 1);
    int[][] pos = new int[1][k.full().length];
    for (int t = 0; t < pos[0].length; t++) {
      pos[0][t] = t;
    }
    float[] logits = e.forward().logits(ids, mask, pos); // [T * V]
    float[] out = new float[k.full().length - k.promptLength()];
    for (int t = k.promptLength(); t < k.full().length; t++) {
      out[t - k.promptLength()] = (float) LogprobsCommand.logSoftmaxAt(logits, (t - 1) * vocab, vocab, k.full()[t]);
    }
    return out;
  }
}
