// `rlsr bench embed`: texts/s of rlsr's embedder against langchain4j's AllMiniLmL6V2EmbeddingModel on the same responses.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.embedder.Utf8Files;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.JsonLines;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "embed", mixinStandardHelpOptions = true,
    description = {"Texts/s of rlsr's all-MiniLM-L6-v2 embedder and of langchain4j's AllMiniLmL6V2EmbeddingModel.embedAll "
        + "on the same responses, in one run (both warmed up first, then timed in alternating rounds).",
        "Prints a table; writes both throughputs and rlsr_over_langchain4j (medians over rounds) to the --json file.",
        "Note: langchain4j's tokenizer truncates at 128 tokens, so it does less work on long texts than rlsr, which "
            + "embeds every token.",
        "With --embedder other than the default (e.g. a decoder embedder directory) only rlsr's embedder is timed: "
            + "langchain4j has no other encoder to compare it with."})
final class BenchEmbedCommand implements Callable<Integer> {
  private static final String DEFAULT_DATA = "shared/data/alpaca-5k/eval.jsonl";

  @Spec CommandSpec spec;

  @Option(names = "--data", paramLabel = "FILE",
      description = "JSON Lines file (UTF-8) with the texts. Default: ../shared/data/alpaca-5k/eval.jsonl, looked for "
          + "in the working directory and its parents.")
  Path data;

  @Option(names = "--field", paramLabel = "NAME", defaultValue = "response",
      description = "Field of each JSON line holding the text. Default: ${DEFAULT-VALUE}.")
  String field;

  @Option(names = "--count", paramLabel = "N", defaultValue = "512",
      description = "Texts to embed (the first N lines; all of them if the file has fewer). Default: ${DEFAULT-VALUE}.")
  int count;

  @Option(names = "--rounds", paramLabel = "N", defaultValue = "5",
      description = "Timed rounds per embedder after the warm-up; throughput is the median round. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(names = "--threads", paramLabel = "N",
      description = "rlsr's batches encoded at once (one ONNX Runtime thread each). Default: the number of cores "
          + "(langchain4j runs one ONNX call per text on a pool of that many threads).")
  Integer threads;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + SentenceEmbedder.DEFAULT_BATCH_SIZE,
      description = "rlsr's most sequences per encoder call. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @picocli.CommandLine.Mixin EmbedderMixin embedder;

  @Option(names = "--json", paramLabel = "FILE", required = true, description = "Where to write the results as JSON.")
  Path json;

  @Override
  public Integer call() throws Exception {
    if (count < 1 || rounds < 1) {
      throw new RlsrException("--count and --rounds must be at least 1 (got " + count + ", " + rounds + ")");
    }
    Path file = data != null ? data : findDefaultData();
    List<String> texts = readTexts(file, field, count);
    int cores = Runtime.getRuntime().availableProcessors();
    int ortThreads = threads != null ? threads : cores;
    PrintWriter out = spec.commandLine().getOut();

    List<TextSegment> segments = new ArrayList<>();
    for (String text : texts) {
      segments.add(TextSegment.from(text));
    }
    double[] rlsrSeconds = new double[rounds];
    double[] langchainSeconds = new double[rounds];
    int truncated = 0;
    double minCosine = 1;
    boolean compare = embedder.embedder.equals(SentenceEmbedder.DEFAULT) && embedder.prompt == null;
    AllMiniLmL6V2EmbeddingModel langchain4j = compare ? new AllMiniLmL6V2EmbeddingModel() : null;
    long loadStart = System.nanoTime();
    double loadSeconds;
    try (SentenceEmbedder rlsr = SentenceEmbedder.load(embedder.embedder, ortThreads, batchSize, embedder.prompt)) {
      loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      float[][] ours = rlsr.embed(texts); // warm-up
      if (compare) {
        List<Embedding> theirs = langchain4j.embedAll(segments).content(); // warm-up
        int[] tokens = rlsr.tokenCounts(texts);
        for (int i = 0; i < texts.size(); i++) {
          if (tokens[i] > 126) {
            truncated++; // langchain4j embeds only the first 126 tokens of these
          } else {
            minCosine = Math.min(minCosine, EmbeddingReward.cosine(ours[i], theirs.get(i).vector()));
          }
        }
      }
      for (int r = 0; r < rounds; r++) {
        long start = System.nanoTime();
        rlsr.embed(texts);
        rlsrSeconds[r] = (System.nanoTime() - start) / 1e9;
        if (compare) {
          start = System.nanoTime();
          langchain4j.embedAll(segments);
          langchainSeconds[r] = (System.nanoTime() - start) / 1e9;
        }
      }
    }
    double rlsrRate = texts.size() / BenchModels.median(rlsrSeconds);
    if (!compare) {
      out.printf("bench embed: %d texts from %s, %d rounds, %d cores, rlsr threads %d, batch %d%n",
          texts.size(), file, rounds, cores, ortThreads, batchSize);
      out.printf("%-44s %12s%n", "embedder", "texts/s");
      out.printf("%-44s %12.1f%n", "rlsr SentenceEmbedder (" + embedder.embedder + ")", rlsrRate);
      out.printf("load (tokenizer, ONNX graph, session): %.1f s%n", loadSeconds);
      out.flush();
      Map<String, Object> result = result(file, texts.size(), cores, ortThreads, rlsrRate);
      result.put("embedder", embedder.embedder);
      result.put("rlsr_round_seconds", rlsrSeconds);
      result.put("load_seconds", loadSeconds);
      writeJson(result);
      return 0;
    }
    double langchainRate = texts.size() / BenchModels.median(langchainSeconds);

    out.printf("bench embed: %d texts from %s, %d rounds, %d cores, rlsr threads %d, batch %d%n",
        texts.size(), file, rounds, cores, ortThreads, batchSize);
    out.printf("%-44s %12s%n", "embedder", "texts/s");
    out.printf("%-44s %12.1f%n", "rlsr SentenceEmbedder (all-minilm-l6-v2)", rlsrRate);
    out.printf("%-44s %12.1f%n", "langchain4j AllMiniLmL6V2EmbeddingModel", langchainRate);
    out.printf("rlsr_over_langchain4j: %.2f%n", rlsrRate / langchainRate);
    out.printf("texts over 126 tokens (langchain4j truncates them): %d; min cosine rlsr vs langchain4j on the others: %.7f%n",
        truncated, minCosine);
    out.flush();

    Map<String, Object> result = result(file, texts.size(), cores, ortThreads, rlsrRate);
    result.put("langchain4j_texts_per_s", langchainRate);
    result.put("rlsr_over_langchain4j", rlsrRate / langchainRate);
    result.put("rlsr_round_seconds", rlsrSeconds);
    result.put("langchain4j_round_seconds", langchainSeconds);
    result.put("texts_truncated_by_langchain4j", truncated);
    result.put("min_cosine_on_untruncated_texts", minCosine);
    writeJson(result);
    return 0;
  }

  private void writeJson(Map<String, Object> result) {
    try {
      Json.PRETTY.writeValue(json.toFile(), result);
    } catch (IOException e) {
      throw new RlsrException("cannot write --json " + json + ": " + e.getMessage(), e);
    }
  }


  private static Path findDefaultData() {
    Path start = Path.of("").toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(DEFAULT_DATA);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new RlsrException("no --data given and " + DEFAULT_DATA + " was not found in " + start
        + " or its parents; pass --data FILE (JSON Lines with a \"response\" field)");
  }

  /**
   * The first {@code limit} texts of a JSON Lines file (strict UTF-8, then the line rules of {@link JsonLines});
   * errors name the file and line.
   */
  static List<String> readTexts(Path file, String field, int limit) {
    String content = Utf8Files.read(file);
    List<String> texts = new ArrayList<>();
    for (JsonLines.Line line : JsonLines.split(content, file)) {
      if (texts.size() >= limit) {
        break;
      }
      JsonNode node;
      try {
        node = JsonLines.parseObject(line.text());
      } catch (JsonLines.BadLine e) {
        throw new RlsrException(file + " line " + line.number() + ": " + e.getMessage());
      }
      JsonNode value = node.get(field);
      if (value == null || !value.isTextual()) {
        throw new RlsrException(file + " line " + line.number() + " has no string field \"" + field
            + "\"; pick the field with --field");
      }
      texts.add(value.asText());
    }
    if (texts.isEmpty()) {
      throw new RlsrException(file + " has no texts (no non-blank JSON lines)");
    }
    return texts;
  }

  /** The fields every bench embed JSON has. */
  private Map<String, Object> result(Path file, int texts, int cores, int ortThreads, double rlsrRate) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("data", file.toString());
    result.put("texts", texts);
    result.put("rounds", rounds);
    result.put("cores", cores);
    result.put("rlsr_threads", ortThreads);
    result.put("rlsr_batch_size", batchSize);
    result.put("rlsr_texts_per_s", rlsrRate);
    return result;
  }
}
