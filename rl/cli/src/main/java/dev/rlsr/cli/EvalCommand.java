// `rlsr eval`: generate a response for each prompt and score it (training-embedder reward, judge-encoder cosine,
// ROUGE-L); per-row results in --out, the means as JSON on stdout.
package dev.rlsr.cli;

import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.eval.Evaluator;
import dev.rlsr.export.Device;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.PositionLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Greedy responses to every prompt of --data, scored against the references: reward under the "
        + "training embedder, cosine under an independent judge encoder (e5-small-v2), and ROUGE-L.")
public final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--model", required = true, description = "Hugging Face model directory.")
  Path model;

  @Option(names = "--data", required = true, description = "JSONL of (prompt, reference response) pairs.")
  Path data;

  @Option(names = "--out", required = true, description = "Per-row results (JSONL).")
  Path out;

  @Mixin EmbedderMixin reward;

  @Option(names = "--judge", defaultValue = SentenceEmbedder.E5_SMALL_V2, description = "Independent judge encoder (default: ${DEFAULT-VALUE}).")
  String judge;

  @Option(names = "--limit", defaultValue = "0", description = "Evaluate only the first N rows; 0 = all (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--max-prompt-length", defaultValue = Evaluator.Options.DEFAULT_MAX_PROMPT_LENGTH, description = "Prompts keep their last N tokens (default: ${DEFAULT-VALUE}).")
  int maxPromptLength;

  @Option(names = "--max-new-tokens", defaultValue = SamplingOptions.DEFAULT_MAX_NEW_TOKENS, description = "Greedy tokens per response; the longest prompt plus these must fit the model's max_position_embeddings (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--batch-size", defaultValue = Evaluator.Options.DEFAULT_BATCH_SIZE, description = "Prompts per generation call (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Mixin DeviceMixin deviceOption;

  @Override
  public Integer call() {
    Device device = deviceOption.device;
    var rows = JsonlDataset.read(data);
    if (limit > 0 && rows.size() > limit) {
      rows = rows.subList(0, limit);
    }
    if (rows.isEmpty()) {
      throw new RlsrException(data + ": the dataset is empty");
    }
    if (batchSize < 1 || maxNewTokens < 1 || maxPromptLength < 1) {
      throw new RlsrException("--batch-size, --max-new-tokens and --max-prompt-length must be at least 1");
    }
    device.requireAvailable();
    if (Files.isDirectory(out)) {
      throw new RlsrException("--out " + out + " is a directory; give the JSONL file to write");
    }
    ModelConfig mc = RunGuard.modelConfig(model);
    try (Tokenizer tok = Tokenizer.load(RunGuard.tokenizerDir(model))) {
      PositionLimits.checkPromptPlusNew(mc, model, PositionLimits.longestPrompt(tok, rows, maxPromptLength),
          maxPromptLength, "--max-prompt-length", maxNewTokens, "--max-new-tokens");
    }
    try (SentenceEmbedder e = reward.load(threads.threads);
        SentenceEmbedder j = SentenceEmbedder.load(judge, threads.threads)) {
      var s = Evaluator.run(model, rows, e, j, out,
          new Evaluator.Options(maxPromptLength, maxNewTokens, batchSize, threads.threads, device));
      var json = s.toJson();
      json.put("model", model.toString());
      json.put("embedder", reward.embedder);
      json.put("judge", judge);
      json.put("out", out.toString());
      spec.commandLine().getOut().println(json.toString());
    }
    return 0;
  }
}
