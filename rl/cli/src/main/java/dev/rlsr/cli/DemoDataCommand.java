// `rlsr demo-data`: writes the demo's built-in instruction dataset (train.jsonl, eval.jsonl of unseen slot
// combinations) and its pretraining corpus (corpus.txt) into a directory.
package dev.rlsr.cli;

import dev.rlsr.demo.DemoCorpus;
import dev.rlsr.demo.DemoData;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo-data", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Writes the demo dataset (train.jsonl, eval.jsonl with held-out slot combinations) and corpus.txt.")
public final class DemoDataCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, description = "Directory for train.jsonl, eval.jsonl and corpus.txt.")
  Path out;

  @Option(names = "--seed", description = "Generation seed (default: ${DEFAULT-VALUE}, the shipped base model's).")
  long seed = DemoData.DEFAULT_SEED;

  @Option(names = "--train", description = "Train examples (default: ${DEFAULT-VALUE}).")
  int train = DemoData.TRAIN_SIZE;

  @Option(names = "--eval", description = "Eval examples (default: ${DEFAULT-VALUE}).")
  int eval = DemoData.EVAL_SIZE;

  @Option(names = "--corpus-documents", description = "Corpus documents; 0 writes no corpus (default: ${DEFAULT-VALUE}).")
  int corpusDocuments = dev.rlsr.demo.DemoBaseModel.Recipe.DEFAULT.corpusDocuments();

  @Override
  public Integer call() {
    if (train < 1 || eval < 1 || corpusDocuments < 0) {
      throw new dev.rlsr.policy.util.RlsrException("--train and --eval must be at least 1, --corpus-documents at least 0");
    }
    DemoData data = DemoData.generate(seed, train, eval);
    data.write(out);
    if (corpusDocuments > 0) {
      DemoCorpus.write(out.resolve("corpus.txt"), DemoCorpus.generate(seed, corpusDocuments));
    }
    spec.commandLine().getOut().printf("demo-data: %d train, %d eval examples%s in %s%n", data.train().size(),
        data.eval().size(), corpusDocuments > 0 ? ", " + corpusDocuments + " corpus documents" : "", out);
    return 0;
  }
}
