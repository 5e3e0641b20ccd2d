// `./rlsr demo`: the README's main command — base model, SFT, RLSR and SFT+RLSR with equal budgets, evaluation on
// held-out prompts, one comparison table, a report, and the best model exported to ONNX answering a prompt.
package dev.rlsr.cli;

import dev.rlsr.demo.DemoData;
import dev.rlsr.demo.DemoRun;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Aligns rlsr's own small base model three ways (SFT, RLSR, SFT+RLSR) with equal compute budgets on "
        + "the built-in instruction data, evaluates them and the base model on held-out prompts, prints a "
        + "comparison table, writes OUT/report.md, exports the best model to OUT/best-onnx and lets it answer a "
        + "held-out prompt.", "About 4 minutes on 2 quiet cores (3m41s measured from a fresh clone, build included)."})
public final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--out", defaultValue = DemoRun.Options.DEFAULT_OUT, description = "Run directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--budget", defaultValue = DemoRun.Options.DEFAULT_BUDGET, description = "Training sequences (forward+backward) per recipe: SFT steps = budget/" + DemoRun.Options.DEFAULT_SFT_BATCH + ", RLSR iterations = budget/(P*G), SFT+RLSR half of each (default: ${DEFAULT-VALUE}).")
  int budget;

  @Option(names = "--sft-lr", defaultValue = DemoRun.Options.DEFAULT_SFT_LR, description = "SFT learning rate (default: ${DEFAULT-VALUE}).")
  double sftLr;

  @Option(names = "--rl-lr", defaultValue = DemoRun.Options.DEFAULT_RL_LR, description = "RLSR learning rate (default: ${DEFAULT-VALUE}).")
  double rlLr;

  @Option(names = "--eval-limit", defaultValue = DemoRun.Options.DEFAULT_EVAL_LIMIT, description = "Held-out prompts to evaluate; 0 = all (default: ${DEFAULT-VALUE}).")
  int evalLimit;

  @Option(names = "--seed", defaultValue = DemoRun.Options.DEFAULT_SEED, description = "Seed of data order and sampling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--overwrite", description = "Replace an existing run directory.")
  boolean overwrite;

  @Override
  public Integer call() throws IOException {
    var log = spec.commandLine().getErr();
    if (FileTrees.isNonEmptyDir(out)) {
      if (!overwrite) {
        throw new RlsrException(out + " is not empty: pass --overwrite to replace it, or choose another --out");
      }
      FileTrees.deleteTree(out);
    }
    if (budget < 128) {
      throw new RlsrException("--budget must be at least 128 sequences");
    }
    var o = DemoRun.Options.builder().out(out).budget(budget).sftLr(sftLr).rlLr(rlLr).evalLimit(evalLimit).seed(seed)
        .threads(threads.threads).build();
    var entries = new DemoRun(o, log).run();
    String table = DemoRun.table(entries);
    var w = spec.commandLine().getOut();
    w.println();
    w.print(table);
    // the best trained model (judge reward) goes to ONNX through `rlsr export`, then answers a held-out prompt
    DemoRun.Entry best = DemoRun.best(entries);
    Path onnx = out.resolve("best-onnx");
    var export = Main.commandLine();
    export.setOut(w);
    export.setErr(log);
    if (export.execute("export", "--model", best.model().toString(), "--out", onnx.toString(), "--format", "onnx") != 0) {
      throw new RlsrException("exporting " + best.model() + " to ONNX failed (see above)");
    }
    var heldOut = JsonlDataset.read(out.resolve("data").resolve(DemoData.EVAL_FILE));
    var question = heldOut.get(Math.floorMod(seed, heldOut.size()));
    String answer = DemoRun.answerWithOnnx(onnx, question, o.maxNewTokens(), threads.threads);
    Path report = DemoRun.report(out, entries, table, question.promptText(), answer);
    var summary = DemoRun.summaryJson(entries);
    summary.put("best", best.name());
    summary.put("onnx", onnx.toString());
    summary.put("answer_prompt", question.promptText());
    summary.put("answer", answer);
    dev.rlsr.policy.util.Json.PRETTY.writeValue(out.resolve("summary.json").toFile(), summary);
    w.println();
    w.println("best: " + best.name() + " (highest judge reward), exported to " + onnx);
    w.println("held-out prompt: " + question.promptText());
    w.println("reference:       " + question.response());
    w.println("ONNX answer:     " + answer);
    w.println("report: " + report);
    return 0;
  }
}
