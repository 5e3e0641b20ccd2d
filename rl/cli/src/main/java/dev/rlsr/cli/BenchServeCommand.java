// `rlsr bench serve`: requests/s and latency percentiles of `rlsr serve` under a bounded load of concurrent clients,
// with --max-batch-size 1 (one request at a time) against batching, in one run.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.serve.OpenAiServer;
import dev.rlsr.serve.ServedModel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Starts rlsr serve in this process (127.0.0.1, a free port) and sends --requests chat completions "
        + "from --clients concurrent HTTP clients, once per --max-batch-size value; prints requests/s, tokens/s and "
        + "p50/p95 latency per setting and writes them to --json."})
public final class BenchServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--model", required = true, description = "What rlsr serve --model takes.")
  Path model;

  @Option(names = "--dtype", converter = ServeCommand.DtypeConverter.class, description = "As rlsr serve --dtype.")
  ExportDtype dtype;

  @Option(names = "--data", description = "JSONL whose prompts are sent, round robin (default: built-in short instructions).")
  Path data;

  @Option(names = "--clients", defaultValue = "8", description = "Concurrent clients, each sending its next request when the last is answered (default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--requests", defaultValue = "64", description = "Requests per setting, after --clients warm-up requests (default: ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--max-tokens", defaultValue = "32", description = "max_tokens of each request, greedy (default: ${DEFAULT-VALUE}).")
  int maxTokens;

  @Option(names = "--max-batch-sizes", split = ",", defaultValue = "1,8", description = "Settings of --max-batch-size to compare (default: ${DEFAULT-VALUE}).")
  List<Integer> batchSizes;

  @Option(names = "--batch-wait-ms", defaultValue = "10", description = "As rlsr serve --batch-wait-ms (default: ${DEFAULT-VALUE}).")
  long batchWaitMs;

  @Option(names = "--json", required = true, description = "File the results are written to.")
  Path json;

  static final List<String> BUILT_IN = List.of("Give three tips for staying healthy.", "What is the capital of France?",
      "Name a colour.", "Write a haiku about the sea.", "Explain photosynthesis in one sentence.",
      "List two prime numbers.", "What is 2 + 2?", "Translate 'hello' to Spanish.");

  @Override
  public Integer call() throws Exception {
    if (clients < 1 || requests < 1 || maxTokens < 1) {
      throw new RlsrException("--clients, --requests and --max-tokens must be at least 1");
    }
    for (int b : batchSizes) {
      if (b < 1) {
        throw new RlsrException("--max-batch-sizes must be at least 1, got " + b);
      }
    }
    List<String> prompts = data == null ? BUILT_IN : JsonlDataset.read(data).stream().map(Example::promptText).toList();
    if (prompts.isEmpty()) {
      throw new RlsrException(data + ": no prompts in the file");
    }
    PrintWriter out = spec.commandLine().getOut();
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("model", model.toString());
    root.put("clients", clients);
    root.put("requests", requests);
    root.put("max_tokens", maxTokens);
    ArrayNode rows = root.putArray("settings");
    out.printf("%-15s %10s %10s %10s %10s %10s%n", "max batch", "req/s", "tokens/s", "p50 ms", "p95 ms", "batches");
    try (ServedModel m = ServedModel.open(model, dtype, threads.threads, Device.CPU)) {
      for (int maxBatch : batchSizes) {
        try (OpenAiServer s = new OpenAiServer(m, new OpenAiServer.Options("bench", "127.0.0.1", 0, null, maxBatch,
            batchWaitMs, 1 << 20, maxTokens), new PrintWriter(new StringWriter())).start()) {
          ObjectNode row = load(s, prompts);
          row.put("max_batch_size", maxBatch);
          rows.add(row);
          out.printf("%-15d %10.2f %10.1f %10.0f %10.0f %10d%n", maxBatch, row.get("requests_per_s").asDouble(),
              row.get("completion_tokens_per_s").asDouble(), row.get("p50_ms").asDouble(), row.get("p95_ms").asDouble(),
              row.get("batches").asLong());
          out.flush();
        }
      }
    }
    Files.writeString(json, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    return 0;
  }

  private ObjectNode load(OpenAiServer s, List<String> prompts) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    URI uri = URI.create("http://127.0.0.1:" + s.port() + "/v1/chat/completions");
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      // warm-up: one request per client
      run(pool, http, uri, prompts, next, clients);
      long batches0 = s.scheduler().batches();
      next.set(0);
      long t0 = System.nanoTime();
      long[][] results = run(pool, http, uri, prompts, next, requests);
      double wall = (System.nanoTime() - t0) / 1e9;
      long[] latencies = Arrays.stream(results).mapToLong(r -> r[0]).sorted().toArray();
      long tokens = Arrays.stream(results).mapToLong(r -> r[1]).sum();
      ObjectNode row = Json.MAPPER.createObjectNode();
      row.put("seconds", wall);
      row.put("requests_per_s", requests / wall);
      row.put("completion_tokens_per_s", tokens / wall);
      row.put("p50_ms", latencies[(int) Math.floor(0.50 * (latencies.length - 1))] / 1e6);
      row.put("p95_ms", latencies[(int) Math.floor(0.95 * (latencies.length - 1))] / 1e6);
      row.put("batches", s.scheduler().batches() - batches0);
      return row;
    } finally {
      pool.shutdownNow();
    }
  }

  /** {@code count} requests from the pool's clients; per request its latency (ns) and completion tokens. */
  private long[][] run(ExecutorService pool, HttpClient http, URI uri, List<String> prompts, AtomicInteger next,
      int count) throws Exception {
    long[][] out = new long[count][];
    List<Future<?>> fs = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      fs.add(pool.submit(() -> {
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
          ObjectNode body = Json.MAPPER.createObjectNode();
          body.put("model", "bench");
          body.putArray("messages").addObject().put("role", "user").put("content", prompts.get(i % prompts.size()));
          body.put("max_tokens", maxTokens);
          body.put("temperature", 0);
          long t = System.nanoTime();
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body))).build(),
              HttpResponse.BodyHandlers.ofString());
          long dt = System.nanoTime() - t;
          if (r.statusCode() != 200) {
            throw new RlsrException("bench request " + i + " got HTTP " + r.statusCode() + ": " + r.body());
          }
          out[i] = new long[] {dt, Json.MAPPER.readTree(r.body()).path("usage").path("completion_tokens").asLong()};
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    return out;
  }
}
