// The benchmarks' shared model options: --model DIR or --shape NAME (a built-in random model), opened the same way
// for bench sft, generate and train.
package dev.rlsr.cli;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import picocli.CommandLine.Option;

public final class BenchModelMixin {
  @Option(names = "--model", description = "Hugging Face model directory to benchmark (default: --shape).")
  Path model;

  @Option(names = "--shape", description = BenchModels.SHAPE_HELP)
  String shape;

  /**
   * A model to benchmark: its config, its weights as a source read tensor by tensor, and the token ids random
   * prompts may use (the tokenizer's vocabulary when there is one).
   */
  record Loaded(String name, ModelConfig config, TensorSource weights, long params, int promptVocab) {
    /** The weights into a graph built for {@link #config}. */
    void loadInto(PolicyGraph g) {
      g.setWeights(materialize());
    }

    ModelWeights materialize() {
      if (weights instanceof ModelWeights w) {
        return w;
      }
      LinkedHashMap<String, dev.rlsr.policy.model.FloatTensor> m = new LinkedHashMap<>();
      for (String n : weights.shapes().keySet()) {
        m.put(n, weights.read(n));
      }
      return new ModelWeights(config, m);
    }
  }

  Loaded open() {
    if (model != null && shape != null) {
      throw new RlsrException("give --model or --shape, not both");
    }
    if (model != null) {
      HfModel m = HfModel.load(model);
      try (Tokenizer tok = m.tokenizer()) {
        ModelWeights w = m.weights();
        return new Loaded(model.toString(), m.config(), w, w.numel(),
            Math.min(tok.vocabSize(), m.config().vocabSize()));
      }
    }
    String s = shape == null ? "small" : shape;
    var w = BenchModels.random(s);
    String name = s.equals("small") ? String.format("random-llama-%.1fM", w.numel() / 1e6) : "random " + s;
    return new Loaded(name, w.config(), w, w.numel(), w.config().vocabSize());
  }

  /** The model directory given with --model, or null for a built-in shape. */
  Path modelDir() {
    return model;
  }

  String shapeName() {
    return shape == null ? "small" : shape;
  }
}
