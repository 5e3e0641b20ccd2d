// `rlsr demo-base`: builds the demo's base model (corpus, tokenizer, random init, pretraining) into a directory;
// the command that regenerates the shipped models/demo-base.
package dev.rlsr.cli;

import dev.rlsr.demo.DemoBaseModel;
import dev.rlsr.pretrain.ScratchModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo-base", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Builds the demo's base model from scratch: demo corpus -> byte-level BPE tokenizer -> random"
        + " Llama -> pretraining. Defaults are the recipe of the shipped models/demo-base."})
public final class DemoBaseCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--out", required = true, description = "Model directory to write (replaced when it exists).")
  Path out;

  @Option(names = "--steps", description = "Pretraining steps (default: the recipe's, ${DEFAULT-VALUE}).")
  long steps = DemoBaseModel.Recipe.DEFAULT.steps();

  @Option(names = "--corpus-documents", description = "Pretraining documents (default: ${DEFAULT-VALUE}).")
  int corpusDocuments = DemoBaseModel.Recipe.DEFAULT.corpusDocuments();

  @Option(names = "--hidden-size", description = "Model width (default: ${DEFAULT-VALUE}).")
  int hiddenSize = DemoBaseModel.Recipe.DEFAULT.size().hiddenSize();

  @Option(names = "--layers", description = "Decoder layers (default: ${DEFAULT-VALUE}).")
  int layers = DemoBaseModel.Recipe.DEFAULT.size().layers();

  @Option(names = "--seed", description = "Seed of corpus, tokenizer data, init and data order (default: ${DEFAULT-VALUE}).")
  long seed = DemoBaseModel.Recipe.DEFAULT.seed();

  @Override
  public Integer call() {
    var d = DemoBaseModel.Recipe.DEFAULT;
    var s = d.size();
    var recipe = d.toBuilder().seed(seed).corpusDocuments(corpusDocuments)
        .size(new ScratchModel.Size(hiddenSize, s.intermediateSize(), layers, s.heads(), s.kvHeads(), s.maxPositions()))
        .steps(steps).build();
    long t0 = System.nanoTime();
    Path dir = DemoBaseModel.build(out, recipe, threads.threads, spec.commandLine().getErr());
    spec.commandLine().getOut().printf("demo-base: model in %s (%.0f s)%n", dir, (System.nanoTime() - t0) / 1e9);
    return 0;
  }
}
