// The benchmarks' shared model options: --model DIR or --shape NAME (a built-in random model), opened the same way
// for bench sft, generate and train.
package dev.rlsr.cli;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

public final class BenchModelMixin {
  @Option(names = "--model", description = "Hugging Face model directory to benchmark (default: --shape).")
  Path model;

  @Option(names = "--shape", description = BenchModels.SHAPE_HELP)
  String shape;

  /**
   * A model to benchmark: its config, its weights as a source read tensor by tensor (the model's files, or random
   * weights drawn as they are read), and the token ids random prompts may use (the tokenizer's vocabulary when there
   * is one). Close it when done: it holds the model's files open.
   */
  record Loaded(String name, ModelConfig config, TensorSource weights, long params, int promptVocab,
      AutoCloseable owner) implements AutoCloseable {
    /** The weights into a graph built for {@link #config}, tensor by tensor. */
    void loadInto(PolicyGraph g) {
      g.setWeights(weights);
    }

    @Override
    public void close() throws Exception {
      if (owner != null) {
        owner.close();
      }
    }
  }

  Loaded open() {
    if (model != null && shape != null) {
      throw new RlsrException("give --model or --shape, not both");
    }
    if (model != null) {
      HfModel m = HfModel.load(model);
      TensorSource w = m.tensors();
      return new Loaded(model.toString(), m.config(), w, w.numel(),
          Math.min(m.tokenizer().vocabSize(), m.config().vocabSize()), m);
    }
    String s = shape == null ? "small" : shape;
    ModelConfig c = BenchModels.shape(s);
    var w = BenchModels.random(s);
    String name = s.equals("small") ? String.format("random-llama-%.1fM", w.numel() / 1e6) : "random " + s;
    return new Loaded(name, c, w, w.numel(), c.vocabSize(), null);
  }

  /** The model directory given with --model, or null for a built-in shape. */
  Path modelDir() {
    return model;
  }

  String shapeName() {
    return shape == null ? "small" : shape;
  }
}
