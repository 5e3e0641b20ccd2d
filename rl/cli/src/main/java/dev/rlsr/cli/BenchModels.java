// The random ~5M-parameter Llama that rlsr's benchmarks use when no --model is given, and small timing helpers.
package dev.rlsr.cli;

import dev.rlsr.policy.model.ModelConfig;
import java.util.Arrays;

final class BenchModels {
  private BenchModels() {}

  /** Llama, hidden 256, 6 layers, 8 heads, 4 kv heads, intermediate 688, vocab 2048: ~5.4M parameters. */
  static ModelConfig small() {
    return ModelConfig.builder("llama").vocabSize(2048).hiddenSize(256).intermediateSize(688).layers(6).heads(8)
        .kvHeads(4).tied(false).ropeTheta(10000.0).maxPositions(2048).bosId(1).eosId(2).build();
  }

  static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
