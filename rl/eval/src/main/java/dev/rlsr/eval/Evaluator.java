// `rlsr eval`: greedy responses of a model to every prompt of a dataset (ONNX Runtime), scored by the training
// embedder's reward, by an independent judge encoder's cosine, and by ROUGE-L against the reference.
package dev.rlsr.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.export.Device;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

public final class Evaluator {
  /**
   * The defaults are those of {@code rlsr eval}'s flags.
   *
   * @param maxPromptLength prompts keep their last this-many tokens (default {@link #DEFAULT_MAX_PROMPT_LENGTH})
   * @param maxNewTokens    greedy tokens per response (default {@link SamplingOptions#DEFAULT_MAX_NEW_TOKENS})
   * @param batchSize       prompts per ONNX Runtime generation call (default {@link #DEFAULT_BATCH_SIZE})
   * @param device          ONNX Runtime execution provider of the generation
   */
  public record Options(int maxPromptLength, int maxNewTokens, int batchSize, int threads, Device device) {
    public static final String DEFAULT_MAX_PROMPT_LENGTH = "256";
    public static final String DEFAULT_BATCH_SIZE = "16";
  }

  /** Means over the rows. */
  public record Summary(int n, double rewardMean, double judgeRewardMean, double rougeLMean, double finishedFraction) {
    public ObjectNode toJson() {
      ObjectNode o = Json.MAPPER.createObjectNode();
      o.put("n", n);
      o.put("reward_mean", rewardMean);
      o.put("judge_reward_mean", judgeRewardMean);
      o.put("rouge_l_mean", rougeLMean);
      o.put("finished_fraction", finishedFraction);
      return o;
    }
  }

  private Evaluator() {}

  /** Greedy responses for every example, in order. */
  public static List<Rollout> generate(HfModel model, List<Example> data, Options o) {
    var tok = model.tokenizer();
    SftTokenizer st = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), Integer.MAX_VALUE);
    List<int[]> prompts = new ArrayList<>();
    for (Example e : data) {
      prompts.add(st.encodePrompt(e, o.maxPromptLength()));
    }
    // batches of similar length waste less padding; results go back to dataset order
    Integer[] order = new Integer[prompts.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt(i -> prompts.get(i).length));
    Rollout[] out = new Rollout[prompts.size()];
    SamplingOptions greedy = SamplingOptions.greedy(o.maxNewTokens(), Arrays.stream(tok.eosIds()).boxed().toList(),
        tok.padId());
    // generation needs only the last position's logits: the LAST graph skips the [B, prompt, V] prefill logits
    try (RolloutEngine engine = RolloutEngines.open(RolloutEngines.Backend.ONNX, model.config(), model.tensors(),
        EngineOptions.of(o.threads(), o.device()))) {
      for (int from = 0; from < order.length; from += o.batchSize()) {
        int to = Math.min(order.length, from + o.batchSize());
        List<int[]> batch = new ArrayList<>();
        for (int i = from; i < to; i++) {
          batch.add(prompts.get(order[i]));
        }
        List<Rollout> r = engine.sample(batch, greedy);
        for (int i = from; i < to; i++) {
          out[order[i]] = r.get(i - from);
        }
      }
    }
    return Arrays.asList(out);
  }

  /**
   * Evaluates a model directory on examples and writes one JSON row per example to {@code outJsonl} (atomically):
   * prompt, reference, response, reward (training embedder), judge_reward (judge encoder), rouge_l, finished.
   */
  public static Summary run(Path modelDir, List<Example> data, SentenceEmbedder embedder, SentenceEmbedder judge,
      Path outJsonl, Options o) {
    if (data.isEmpty()) {
      throw new RlsrException("nothing to evaluate: the dataset is empty");
    }
    try (HfModel model = HfModel.load(modelDir)) {
      List<Rollout> rollouts = generate(model, data, o);
      List<String> responses = new ArrayList<>();
      List<String> refs = new ArrayList<>();
      for (int i = 0; i < data.size(); i++) {
        responses.add(model.tokenizer().decode(rollouts.get(i).tokens()).strip());
        refs.add(data.get(i).response());
      }
      float[] reward = new EmbeddingReward(embedder).score(responses, refs);
      float[] judged = new EmbeddingReward(judge).score(responses, refs);
      double sr = 0;
      double sj = 0;
      double sl = 0;
      int finished = 0;
      Path parent = outJsonl.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = parent.resolve("." + outJsonl.getFileName() + ".tmp");
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        for (int i = 0; i < data.size(); i++) {
          double rouge = RougeL.f(refs.get(i), responses.get(i));
          ObjectNode row = Json.MAPPER.createObjectNode();
          row.put("prompt", data.get(i).promptText());
          row.put("reference", refs.get(i));
          row.put("response", responses.get(i));
          row.put("reward", reward[i]);
          row.put("judge_reward", judged[i]);
          row.put("rouge_l", rouge);
          row.put("finished", rollouts.get(i).finishedByEos());
          w.write(Json.MAPPER.writeValueAsString(row));
          w.newLine();
          sr += reward[i];
          sj += judged[i];
          sl += rouge;
          finished += rollouts.get(i).finishedByEos() ? 1 : 0;
        }
      }
      Files.move(tmp, outJsonl, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      int n = data.size();
      return new Summary(n, sr / n, sj / n, sl / n, (double) finished / n);
    } catch (IOException e) {
      throw new RlsrException(outJsonl + ": cannot write: " + e.getMessage(), e);
    }
  }
}
