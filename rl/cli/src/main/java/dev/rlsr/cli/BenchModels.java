// The models rlsr's benchmarks run on: --model DIR (a Hugging Face directory), or --shape NAME, a random model of a
// published config (the random ~5M Llama by default), plus small timing helpers.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.RandomWeights;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;

final class BenchModels {
  /** The built-in shapes: "small" and the published config.json of each real model, random weights. */
  static final List<String> SHAPES = List.of("small", "qwen2.5-0.5b", "qwen3-0.6b", "llama3.2-1b");
  static final String SHAPE_HELP = "Built-in random model instead of --model: small (a ~5.4M-parameter Llama: hidden "
      + "256, 6 layers, 8 heads, 4 kv heads, intermediate 688, vocab 2048; the default), or the published config.json "
      + "of qwen2.5-0.5b (Qwen2.5-0.5B-Instruct, 494M parameters), qwen3-0.6b (Qwen3-0.6B) or llama3.2-1b "
      + "(Llama-3.2-1B) with random weights.";

  private BenchModels() {}

  /** Llama, hidden 256, 6 layers, 8 heads, 4 kv heads, intermediate 688, vocab 2048: ~5.4M parameters. */
  static ModelConfig small() {
    return ModelConfig.builder("llama").vocabSize(2048).hiddenSize(256).intermediateSize(688).layers(6).heads(8)
        .kvHeads(4).tied(false).ropeTheta(10000.0).maxPositions(2048).bosId(1).eosId(2).build();
  }

  /** The config of a built-in shape; refusals name --shape and list the shapes. */
  static ModelConfig shape(String name) {
    if (name.equals("small")) {
      return small();
    }
    if (!SHAPES.contains(name)) {
      throw new RlsrException("--shape " + name + ": unknown shape (shapes: " + String.join(", ", SHAPES) + ")");
    }
    String resource = "shapes/" + name + ".json";
    try (InputStream in = BenchModels.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource);
      }
      return ModelConfig.fromJson((ObjectNode) Json.MAPPER.readTree(in), name + " (built-in config.json)");
    } catch (IOException e) {
      throw new IllegalStateException(resource + ": " + e.getMessage(), e);
    }
  }

  /** Random weights of a built-in shape, made one tensor at a time as they are read. */
  static RandomWeights random(String shape) {
    return new RandomWeights(shape(shape), 1);
  }

  static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  static double mean(double[] xs) {
    return Arrays.stream(xs).average().orElse(Double.NaN);
  }
}
