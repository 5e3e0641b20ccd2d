// The benchmarks' shared model options: --model DIR or --shape NAME (a built-in random model), opened the same way
// for bench sft, generate and train.
package dev.rlsr.cli;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.checkpoint.SafetensorsSource;
import dev.rlsr.policy.util.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;
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
    // Drawn once into a float32 file and read memory-mapped, as a model's files are: reading random weights drawn on
    // every read would count the drawing in each timed load and weight sync (at 5.4M parameters 200 ms a sync
    // against 50-80 ms from memory; at 0.5B about 44 s).
    TensorSource drawn = BenchModels.random(s);
    String name = s.equals("small") ? String.format("random-llama-%.1fM", drawn.numel() / 1e6) : "random " + s;
    try {
      Path dir = Files.createTempDirectory("rlsr-bench-weights");
      try {
        Path file = dir.resolve(Safetensors.SINGLE_FILE);
        Safetensors.write(file, drawn, Safetensors.DType.F32, Map.of());
        SafetensorsSource w = SafetensorsSource.open(file);
        return new Loaded(name, c, w, w.numel(), c.vocabSize(), () -> {
          w.close();
          FileTrees.deleteTree(dir);
        });
      } catch (RuntimeException e) {
        FileTrees.deleteTree(dir);
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("bench: cannot write the random " + s + " weights to a temporary file", e);
    }
  }

  /** The model directory given with --model, or null for a built-in shape. */
  Path modelDir() {
    return model;
  }

  String shapeName() {
    return shape == null ? "small" : shape;
  }
}
