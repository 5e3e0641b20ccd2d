// `rlsr demo-data` writes the demo dataset and corpus in the formats `rlsr sft` and `rlsr pretrain` read.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.pretrain.TextCorpus;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoDataCommandTest {
  @TempDir Path tmp;

  @Test
  void writesTrainEvalAndCorpus() {
    var r = Cli.run("demo-data", "--out", tmp.toString(), "--train", "60", "--eval", "12", "--corpus-documents", "25");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(JsonlDataset.read(tmp.resolve("train.jsonl"))).hasSize(60);
    assertThat(JsonlDataset.read(tmp.resolve("eval.jsonl"))).hasSize(12);
    assertThat(TextCorpus.read(tmp.resolve("corpus.txt"))).hasSize(25);
    var bad = Cli.run("demo-data", "--out", tmp.toString(), "--train", "0");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains("--train");
  }
}
