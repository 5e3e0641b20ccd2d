// --model, --data and --out of the commands that train a model from a dataset into a run directory (sft, train).
package dev.rlsr.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

final class RunPathsMixin {
  @Option(names = "--model", required = true, description = "Hugging Face model directory to start from (config.json, model.safetensors, tokenizer.json).")
  Path model;

  @Option(names = "--data", required = true, description = "JSONL of (prompt, response) pairs: {\"prompt\",\"response\"}, {\"instruction\",\"input\",\"output\"} or {\"messages\":[...]}; train uses the response as the reward's reference.")
  Path data;

  @Option(names = "--out", required = true, description = "Output directory: final model, checkpoints/, metrics.jsonl; neither --model nor inside it. One run at a time (OUT/.rlsr.lock).")
  Path out;
}
