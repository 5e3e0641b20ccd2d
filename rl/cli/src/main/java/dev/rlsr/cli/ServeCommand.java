// `rlsr serve`: an OpenAI-compatible HTTP server on an export directory (any dtype) or a model/adapter directory,
// running until SIGTERM or Ctrl-C.
package dev.rlsr.cli;

import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.FlagChoices;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.serve.OpenAiServer;
import dev.rlsr.serve.ServedModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Serves a model over HTTP with the OpenAI API: GET /v1/models, POST /v1/completions, POST "
        + "/v1/chat/completions (the model's chat template, as rlsr chat-template renders it), GET /health.",
        "Honoured request fields: model, prompt / messages, max_tokens (max_completion_tokens), temperature (0 = "
            + "greedy), top_p, n, seed, stop, stream (server-sent events ending with data: [DONE]); usage is in "
            + "every response. Requests that arrive together are decoded together in one ONNX Runtime run, up to "
            + "--max-batch-size rows. Bad requests get OpenAI's error JSON with a 4xx status.",
        "The start-up line (stdout) gives the URL; the access log (one line per request) and one line per batch go "
            + "to stderr. SIGTERM or Ctrl-C stops taking requests, lets those in flight finish and exits."})
public final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--model", required = true, description = "An rlsr export directory (model.onnx, model_fp16.onnx, "
      + "model_quantized.onnx or model_q4.onnx, here or in onnx/, with config.json and the tokenizer), a model "
      + "directory with model.safetensors, or a LoRA adapter directory.")
  Path model;

  @Option(names = "--dtype", converter = DtypeConverter.class, description = "Which ONNX file of an export to serve: "
      + "fp32, fp16, q8 or q4 (default: model.onnx, else the only one). For a directory of weights: fp32, q8 or q4, "
      + "quantized at start-up as rlsr export --dtype does (default fp32).")
  ExportDtype dtype;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind; another than 127.0.0.1 "
      + "exposes the model to the network, so give --api-key with it (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "8000", description = "TCP port; 0 picks a free one, printed at start-up (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--served-model-name", description = "The model id clients send and /v1/models lists (default: the --model directory's name).")
  String servedModelName;

  @Option(names = "--api-key", description = "Require 'Authorization: Bearer KEY' on every /v1 request (visible "
      + "in the process list: prefer --api-key-env).")
  String apiKey;

  @Option(names = "--api-key-env", description = "Name of an environment variable holding the bearer token to require.")
  String apiKeyEnv;

  @Option(names = "--max-batch-size", defaultValue = "8", description = "Rows (requests times n) decoded together at most; a request asking for more choices is refused (default: ${DEFAULT-VALUE}).")
  int maxBatchSize;

  @Option(names = "--batch-wait-ms", defaultValue = "10", description = "How long the first waiting request waits for others to join its batch (default: ${DEFAULT-VALUE}).")
  long batchWaitMs;

  @Option(names = "--max-tokens", defaultValue = SamplingOptions.DEFAULT_MAX_NEW_TOKENS, description = "New tokens of a request that gives no max_tokens, cut to what the context leaves (default: ${DEFAULT-VALUE}).")
  int defaultMaxTokens;

  @Option(names = "--max-body-bytes", defaultValue = "1048576", description = "Largest request body; larger ones get 413 (default: ${DEFAULT-VALUE}).")
  long maxBodyBytes;

  @Mixin DeviceMixin deviceOption;

  static final class DtypeConverter implements ITypeConverter<ExportDtype> {
    @Override
    public ExportDtype convert(String value) {
      return FlagChoices.parse("--dtype", value, ExportDtype.values());
    }
  }

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65_535) {
      throw new RlsrException("--port must be between 0 and 65535, got " + port);
    }
    if (maxBatchSize < 1 || maxBatchSize > 1024) {
      throw new RlsrException("--max-batch-size must be between 1 and 1024, got " + maxBatchSize);
    }
    if (batchWaitMs < 0 || batchWaitMs > 60_000) {
      throw new RlsrException("--batch-wait-ms must be between 0 and 60000, got " + batchWaitMs);
    }
    if (defaultMaxTokens < 1) {
      throw new RlsrException("--max-tokens must be at least 1, got " + defaultMaxTokens);
    }
    if (maxBodyBytes < 1024) {
      throw new RlsrException("--max-body-bytes must be at least 1024, got " + maxBodyBytes);
    }
    String key = apiKey;
    if (apiKeyEnv != null) {
      if (apiKey != null) {
        throw new RlsrException("give --api-key or --api-key-env, not both");
      }
      key = System.getenv(apiKeyEnv);
      if (key == null || key.isEmpty()) {
        throw new RlsrException("--api-key-env " + apiKeyEnv + ": that environment variable is not set");
      }
    }
    if (key != null && key.isBlank()) {
      throw new RlsrException("--api-key must not be empty");
    }
    Device device = deviceOption.device;
    device.requireAvailable();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter log = spec.commandLine().getErr();
    String name = servedModelName != null ? servedModelName
        : model.toAbsolutePath().normalize().getFileName().toString();
    ServedModel m = ServedModel.open(model, dtype, threads.threads, device);
    OpenAiServer server;
    try {
      server = new OpenAiServer(m, new OpenAiServer.Options(name, host, port, key, maxBatchSize, batchWaitMs,
          maxBodyBytes, defaultMaxTokens), log).start();
    } catch (RuntimeException e) {
      m.close();
      throw new RlsrException("could not start the server on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      log.println("rlsr serve: stopping (requests in flight finish first)");
      log.flush();
      server.shutdown(30_000);
      m.close();
      log.println("rlsr serve: stopped");
      log.flush();
      stopped.countDown();
    }, "rlsr-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    out.printf("rlsr serve: %s as \"%s\" on http://%s:%d/v1 (max batch %d)%n", m.source(), name,
        host.contains(":") ? "[" + host + "]" : host, server.port(), maxBatchSize);
    out.flush();
    stopped.await();
    return 0;
  }
}
