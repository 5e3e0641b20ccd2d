// `rlsr pretrain` from scratch on a tiny corpus: a random Llama is created for the tokenizer, the loss falls,
// and OUT is a Hugging Face model directory that loads; bad flag combinations fail with a clear message.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.demo.DemoCorpus;
import dev.rlsr.demo.DemoData;
import dev.rlsr.demo.DemoTokenizer;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.train.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainCommandTest {
  @TempDir Path tmp;

  private Path tokenizer(List<String> corpus) throws Exception {
    Path dir = tmp.resolve("tok");
    DemoTokenizer.train(DemoTokenizer.trainingTexts(corpus, DemoData.generate(3, 120, 12)), 150).write(dir);
    return dir;
  }

  @Test
  void pretrainFromScratchLowersLossAndWritesALoadableModel() throws Exception {
    List<String> docs = DemoCorpus.generate(3, 200);
    Path corpus = tmp.resolve("corpus.txt");
    DemoCorpus.write(corpus, docs);
    Path tok = tokenizer(docs);
    Path out = tmp.resolve("out");
    var r = Cli.run("pretrain", "--corpus", corpus.toString(), "--tokenizer", tok.toString(), "--out", out.toString(),
        "--hidden-size", "32", "--intermediate-size", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2",
        "--max-steps", "30", "--batch-size", "8", "--warmup-steps", "3", "--learning-rate", "1e-2",
        "--max-seq-len", "64", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("pretrain: 30 steps");
    assertThat(r.err()).contains("data: 200 documents");
    var rows = MetricsLog.read(out.resolve("metrics.jsonl"));
    assertThat(rows).hasSize(30);
    double first = (rows.get(0).get("loss").asDouble() + rows.get(1).get("loss").asDouble()) / 2;
    double last = (rows.get(28).get("loss").asDouble() + rows.get(29).get("loss").asDouble()) / 2;
    assertThat(first).isGreaterThan(Math.log(400) - 1); // random init: about ln(vocab)
    assertThat(last).isLessThan(first * 0.85);
    try (HfModel m = HfModel.load(out); HfModel init = HfModel.load(out.resolve(PretrainCommand.INIT_DIR))) {
      assertThat(m.config().modelType()).isEqualTo("llama");
      assertThat(m.config().hiddenSize()).isEqualTo(32);
      assertThat(m.config().vocabSize() % 64).isZero();
      assertThat(m.config().vocabSize()).isGreaterThanOrEqualTo(m.tokenizer().vocabSize());
      assertThat(m.tokenizer().eosIds()).containsExactly(m.tokenizer().tokenId(DemoTokenizer.EOS));
      assertThat(m.weights().get("model.embed_tokens.weight").data())
          .isNotEqualTo(init.weights().get("model.embed_tokens.weight").data());
    }
    assertThat(Files.readString(out.resolve("run_config.json"))).contains("\"recipe\" : \"pretrain\"");
  }

  @Test
  void refusesAmbiguousOrMissingStartingPoint() throws Exception {
    Path corpus = tmp.resolve("c.txt");
    Files.writeString(corpus, "The red fox lives in the forest.\n");
    var none = Cli.run("pretrain", "--corpus", corpus.toString(), "--out", tmp.resolve("o1").toString());
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).contains("--model").contains("--tokenizer");
    var both = Cli.run("pretrain", "--corpus", corpus.toString(), "--out", tmp.resolve("o2").toString(),
        "--model", tmp.toString(), "--tokenizer", tmp.toString());
    assertThat(both.code()).isEqualTo(1);
    assertThat(both.err()).contains("one or the other");
    Path empty = tmp.resolve("empty.txt");
    Files.writeString(empty, "\n  \n");
    var e = Cli.run("pretrain", "--corpus", empty.toString(), "--out", tmp.resolve("o3").toString(),
        "--tokenizer", tmp.toString());
    assertThat(e.code()).isEqualTo(1);
    assertThat(e.err()).contains(empty.toString()).contains("empty");
  }
}
