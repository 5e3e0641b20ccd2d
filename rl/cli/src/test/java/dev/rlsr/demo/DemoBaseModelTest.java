// The demo base model: a tiny recipe builds into a cache directory through the pretraining path and is reused on
// the next call; the shipped models/demo-base loads and was built with the default recipe.
package dev.rlsr.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.pretrain.ScratchModel;
import dev.rlsr.train.MetricsLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoBaseModelTest {
  @TempDir Path tmp;

  @Test
  void buildsOnceThenUsesTheCache() throws Exception {
    var tiny = new DemoBaseModel.Recipe(DemoData.VERSION, 5, 300, 120, new ScratchModel.Size(32, 64, 2, 4, 2, 64),
        12, 8, 1e-2, 2, 0.0, 64);
    Path cache = tmp.resolve("cache").resolve("demo-base");
    StringWriter log = new StringWriter();
    Path dir = DemoBaseModel.ensure(cache, tiny, 1, new PrintWriter(log, true));
    assertThat(dir).isEqualTo(cache);
    assertThat(log.toString()).contains("building");
    assertThat(DemoBaseModel.builtWith(cache, tiny)).isTrue();
    assertThat(DemoBaseModel.builtWith(cache, DemoBaseModel.Recipe.DEFAULT)).isFalse();
    assertThat(MetricsLog.read(cache.resolve("metrics.jsonl"))).hasSize(12);
    try (HfModel m = HfModel.load(cache)) {
      assertThat(m.config().numLayers()).isEqualTo(2);
      assertThat(m.tokenizer().vocabSize()).isBetween(256 + 60, 256 + 120 + 1);
    }
    // no work directories left beside the cache
    try (var s = Files.list(cache.getParent())) {
      assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("demo-base");
    }
    StringWriter again = new StringWriter();
    long modified = Files.getLastModifiedTime(cache.resolve("model.safetensors")).toMillis();
    assertThat(DemoBaseModel.ensure(cache, tiny, 1, new PrintWriter(again, true))).isEqualTo(cache);
    assertThat(again.toString()).contains("cached").doesNotContain("building");
    assertThat(Files.getLastModifiedTime(cache.resolve("model.safetensors")).toMillis()).isEqualTo(modified);
  }

  @Test
  void shippedModelIsTheDefaultRecipesAndLoads() {
    var shipped = DemoBaseModel.shipped();
    assertThat(shipped).as("models/demo-base in the repository").isPresent();
    assertThat(DemoBaseModel.builtWith(shipped.get(), DemoBaseModel.Recipe.DEFAULT))
        .as("models/demo-base was built with Recipe.DEFAULT (rebuild it as models/README.md says)").isTrue();
    try (HfModel m = HfModel.load(shipped.get())) {
      assertThat(m.config().hiddenSize()).isEqualTo(DemoBaseModel.Recipe.DEFAULT.size().hiddenSize());
      assertThat(m.tokenizer().eosIds()).containsExactly(m.tokenizer().tokenId(DemoTokenizer.EOS));
    }
    StringWriter log = new StringWriter();
    assertThat(DemoBaseModel.ensure(Path.of("unused-cache"), new PrintWriter(log, true))).isEqualTo(shipped.get());
    assertThat(Path.of("unused-cache")).doesNotExist();
  }
}
