// What every executor needs once per run to compute rollout units: the policy's architecture and tokenizer files,
// the sampling and reward settings. Sent to the executors as one Spark broadcast when the stage opens.
package dev.rlsr.spark;

import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.rollout.SamplingOptions;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * @param runId          this driver's run (an executor's cached sessions belong to one run)
 * @param configJson     the policy's config.json, as ModelConfig read it
 * @param tokenizerFiles the tokenizer directory's files (tokenizer.json and the small JSON files beside it), by name
 * @param embedder       {@code --embedder}: a built-in name (on the executors' class path) or a directory every
 *                       executor can read at this path
 * @param embedderPrompt {@code --embedder-prompt}, or null
 * @param threads        {@code --threads}: intra-op threads of the executor's ONNX Runtime sessions
 * @param device         {@code --device} flag
 * @param rolloutDtype   {@code --rollout-dtype} name
 * @param loraR          LoRA rank, 0 without an adapter; then {@code loraAlpha}, {@code loraModules} describe it
 * @param sampling       the run's sampling options (each row takes its own seed)
 * @param seed           {@code --seed}
 * @param metadata       metadata of the rollout graph (the run config)
 */
record RunSpec(String runId, String configJson, Map<String, byte[]> tokenizerFiles, String embedder,
    String embedderPrompt, int threads, String device, String rolloutDtype, int loraR, double loraAlpha,
    List<String> loraModules, SamplingOptions sampling, long seed, Map<String, String> metadata)
    implements Serializable {
  LoraConfig lora() {
    return loraR == 0 ? null : new LoraConfig(loraR, loraAlpha, 0.0, loraModules);
  }
}
