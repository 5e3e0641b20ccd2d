// `rlsr generate`: completions of prompts (one --prompt or a JSONL --data file) from a model, on ONNX Runtime with
// a KV cache or on the TensorFlow graph, printed as one JSON line per prompt.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.export.Device;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.PositionLimits;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Generates a completion for each prompt and prints one JSON line per prompt, in input order:",
        "  {\"prompt\": ..., \"completion\": ..., \"tokens\": [...], \"finished\": true|false}",
        "Prompts are rendered with the model's chat template (or the plain template when it has none); tokens "
            + "are the generated ids (the stop token included), completion their text without special tokens, "
            + "finished whether the row stopped on an EOS token before --max-new-tokens."})
public final class GenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--model", required = true, description = "Hugging Face model directory.")
  Path model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Input input;

  static final class Input {
    @Option(names = "--prompt", description = "One prompt (a user message).")
    String prompt;

    @Option(names = "--data", description = "JSONL in the sft/train formats ({\"prompt\", \"response\"}, Alpaca or chat messages); the prompts are generated for, the reference responses ignored.")
    Path data;
  }

  @Option(names = "--backend", defaultValue = "onnx", converter = FlagConverters.GenerateBackend.class, description = "onnx (ONNX Runtime, KV cache) or tf (TensorFlow graph, recomputes the sequence each step) (default: ${DEFAULT-VALUE}).")
  RolloutEngines.Backend backend;

  @Option(names = "--greedy", description = "Argmax decoding (ignores --temperature, --top-p, --top-k).")
  boolean greedy;

  @Mixin SamplingMixin sampling;

  @Option(names = "--max-new-tokens", defaultValue = SamplingOptions.DEFAULT_MAX_NEW_TOKENS, description = "New tokens per prompt at most; the longest prompt plus these must fit the model's max_position_embeddings (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the sampling draws; the same seed, prompts and options repeat exactly (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch-size", defaultValue = "8", description = "Prompts generated together, left-padded (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--max-prompt-length", defaultValue = "1024", description = "Longer prompts keep their last N tokens (default: ${DEFAULT-VALUE}).")
  int maxPromptLength;

  @Mixin DeviceMixin deviceOption;

  @Override
  public Integer call() throws Exception {
    Device device = deviceOption.device;
    if (batchSize < 1) {
      throw new RlsrException("--batch-size must be at least 1, got " + batchSize);
    }
    if (maxPromptLength < 1) {
      throw new RlsrException("--max-prompt-length must be at least 1, got " + maxPromptLength);
    }
    if (backend == RolloutEngines.Backend.TF && device != Device.CPU) {
      throw new RlsrException("--device " + device + " applies to --backend onnx only (TensorFlow places ops itself: "
          + "the -Pgpu build uses the GPU when there is one)");
    }
    device.requireAvailable();
    sampling.check("--max-new-tokens", maxNewTokens);
    List<Example> examples = input.prompt != null ? List.of(Example.of(input.prompt, "")) : JsonlDataset.read(input.data);
    if (examples.isEmpty()) {
      throw new RlsrException(input.data + ": no prompts in the file");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (HfModel m = HfModel.load(model)) {
      // Only encodePrompt is used: its own limit applies; the SFT sequence limit just has to be valid.
      SftTokenizer st = new SftTokenizer(m.tokenizer(), PromptRenderer.forTokenizer(m.tokenizer()), maxPromptLength + 1);
      List<int[]> prompts = new ArrayList<>();
      int longest = 0;
      for (Example e : examples) {
        prompts.add(st.encodePrompt(e, maxPromptLength));
        longest = Math.max(longest, prompts.get(prompts.size() - 1).length);
      }
      PositionLimits.checkPromptPlusNew(m.config(), model, longest, maxPromptLength, "--max-prompt-length",
          maxNewTokens, "--max-new-tokens");
      SamplingOptions o = new SamplingOptions(maxNewTokens, sampling.temperature, sampling.topK, sampling.topP, greedy, seed,
          Arrays.stream(m.tokenizer().eosIds()).boxed().toList(), m.tokenizer().padId());
      try (RolloutEngine engine = RolloutEngines.open(backend, m.config(), m.tensors(),
          EngineOptions.of(threads.threads, device))) {
        emit(out, m, examples, prompts, o, engine);
      }
    }
    return 0;
  }

  /** Generates batch by batch (each batch seeded with --seed + its index) and prints the lines in input order. */
  private void emit(PrintWriter out, HfModel m, List<Example> examples, List<int[]> prompts, SamplingOptions o,
      RolloutEngine engine) throws Exception {
    for (int from = 0; from < prompts.size(); from += batchSize) {
      int to = Math.min(prompts.size(), from + batchSize);
      List<Rollout> rs = engine.sample(prompts.subList(from, to), o.withSeed(o.seed() + from / batchSize));
      for (int i = from; i < to; i++) {
        Rollout r = rs.get(i - from);
        int[] text = r.finishedByEos() ? Arrays.copyOf(r.tokens(), r.tokens().length - 1) : r.tokens();
        ObjectNode line = Json.MAPPER.createObjectNode();
        line.put("prompt", examples.get(i).promptText());
        line.put("completion", m.tokenizer().decode(text));
        var toks = line.putArray("tokens");
        for (int t : r.tokens()) {
          toks.add(t);
        }
        line.put("finished", r.finishedByEos());
        out.println(Json.MAPPER.writeValueAsString(line));
      }
      out.flush();
    }
  }
}
