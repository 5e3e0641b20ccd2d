// `rlsr sft`: supervised fine-tuning of a Hugging Face checkpoint on a JSONL dataset (masked NLL on responses).
package dev.rlsr.cli;

import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.MemoryPlan;
import dev.rlsr.train.SftOptions;
import dev.rlsr.train.SftTrainer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
    defaultValueProvider = SftCommand.Defaults.class,
    description = "Supervised fine-tuning: next-token loss on the response tokens of (prompt, response) pairs.")
public final class SftCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;
  @Mixin RunPathsMixin paths;

  @Mixin SftLoopMixin loop;

  @Mixin OptimizerMixin optimizer;

  @Mixin LoraMixin lora;

  @Mixin MemoryLimitMixin memory;

  @Option(names = "--max-seq-len", description = "Longest prompt+response in tokens, at most the model's max_position_embeddings (default: " + SftOptions.DEFAULT_MAX_SEQ_LEN + ", or that limit when smaller); longer responses are cut, over-long prompts dropped.")
  Integer maxSeqLen;

  /** The optimizer defaults of an SFT run. */
  static final class Defaults extends OptionDefaults {
    Defaults() {
      super(OptimizerMixin.SFT, SftLoopMixin.SFT);
    }
  }

  @Override
  public Integer call() {
    var log = spec.commandLine().getErr();
    Path model = paths.model;
    Path data = paths.data;
    Path out = paths.out;
    RunGuard.checkResumeOverride(loop.resume, loop.resumeOverride);
        RunGuard.checkOut(out, RunGuard.inputs("--model", model, null, null));
    ModelConfig config = RunGuard.modelConfig(model);
    int seqLen = RunGuard.seqLen(maxSeqLen, SftOptions.DEFAULT_MAX_SEQ_LEN, config, model.resolve("config.json"),
        "--max-seq-len");
    SftOptions o = loop.applyTo(optimizer.applyTo(SftOptions.builder())).model(model).data(data).out(out)
        .maxSeqLen(seqLen).threads(threads.threads).lora(lora.config()).build().validate();
    MemoryGuard.check("sft", List.of(MemoryGuard.plan(config, MemoryPlan.sft("sft", o, "--batch-size",
        "--max-seq-len", 0))), memory, log, MemoryGuard.roots(out));
    var examples = JsonlDataset.read(data);
    if (examples.isEmpty()) {
      throw new RlsrException(data + ": the dataset is empty");
    }
    SftTrainer.Summary s;
    try (var lock = RunGuard.lock(out, spec, log)) {
      s = new SftTrainer(o, log).resumeOverride(loop.resumeOverride).run(examples);
    }
    if (s.stepsRun() == 0) {
      spec.commandLine().getOut().printf("sft: already complete at step %d; model in %s%n", s.steps(), s.finalModel());
    } else {
      spec.commandLine().getOut().printf("sft: %d steps, loss %s -> %s, %.0f tokens/s, %d skipped; model in %s%n",
          s.steps(), RunGuard.num(s.firstLoss()), RunGuard.num(s.lastLoss()), s.tokensPerSecond(), s.skippedSteps(),
          s.finalModel());
    }
    return 0;
  }
}
