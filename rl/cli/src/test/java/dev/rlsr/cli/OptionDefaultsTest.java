// Each option's default is written once: the flags of sft, pretrain and train resolve to the defaults of SftOptions
// and GrpoConfig (also for the shared optimizer flags, whose defaults differ per command), and --config fills in
// options, required ones included, while flags on the command line win.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.export.Device;
import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.train.LrSchedule;
import dev.rlsr.train.SftOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class OptionDefaultsTest {
  @TempDir Path tmp;

  private static <T> T parse(T command, String... args) {
    CommandLine cl = new CommandLine(command);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.parseArgs(args);
    return command;
  }

  @Test
  void sftFlagsDefaultToSftOptions() {
    SftCommand c = parse(new SftCommand(), "--model", "m", "--data", "d.jsonl", "--out", "o");
    SftOptions built = c.optimizer.applyTo(SftOptions.builder()).model(c.paths.model).data(c.paths.data)
        .out(c.paths.out).epochs(c.loop.epochs).maxSteps(c.loop.maxSteps).batchSize(c.loop.batchSize)
        .gradAccum(c.loop.gradAccum).seed(c.loop.seed).saveEvery(c.loop.saveEvery).saveTotalLimit(c.loop.saveTotalLimit)
        .stopAfter(c.loop.stopAfter).build();
    assertThat(built).isEqualTo(SftOptions.builder().model(Path.of("m")).data(Path.of("d.jsonl")).out(Path.of("o"))
        .build());
  }

  @Test
  void pretrainFlagsDefaultToThePretrainingDefaults() {
    PretrainCommand c = parse(new PretrainCommand(), "--corpus", "c.txt", "--out", "o");
    SftOptions defaults = SftOptions.pretrainBuilder().model(Path.of("m")).data(Path.of("c.txt")).out(Path.of("o"))
        .build();
    assertThat(c.optimizer.learningRate).isEqualTo(defaults.learningRate());
    assertThat(c.optimizer.warmupSteps).isEqualTo(defaults.warmupSteps());
    assertThat(c.optimizer.weightDecay).isEqualTo(defaults.weightDecay());
    assertThat(c.optimizer.schedule).isEqualTo(defaults.schedule());
    assertThat(c.loop.batchSize).isEqualTo(defaults.batchSize());
    assertThat(defaults.promptLoss()).isTrue();
  }

  @Test
  void trainFlagsDefaultToGrpoConfig() {
    TrainCommand c = parse(new TrainCommand(), "--model", "m", "--data", "d.jsonl", "--out", "o", "--threads", "3");
    GrpoConfig expected = GrpoConfig.builder().model(Path.of("m")).data(Path.of("d.jsonl")).out(Path.of("o"))
        .threads(3).build();
    assertThat(config(c)).isEqualTo(expected);
  }

  /** The config TrainCommand.call builds, without running it. */
  private static GrpoConfig config(TrainCommand c) {
    return c.optimizer.applyTo(c.sampling.applyTo(GrpoConfig.builder())).model(c.paths.model).data(c.paths.data)
        .out(c.paths.out).iterations(c.iterations).promptsPerIteration(c.promptsPerIteration)
        .numGenerations(c.numGenerations).maxPromptLength(c.maxPromptLength)
        .maxCompletionLength(c.maxCompletionLength).beta(c.beta).epsilon(c.epsilon).epsilonHigh(c.epsilonHigh)
        .lossType(c.lossType).scaleRewards(c.scaleRewards).numIterations(c.numIterations)
        .maskTruncatedCompletions(c.maskTruncatedCompletions).embedder(c.reward.embedder).seed(c.seed)
        .saveEvery(c.saveEvery).saveTotalLimit(c.saveTotalLimit).microBatchSize(c.microBatchSize)
        .generationBatchSize(c.generationBatchSize).isCorrection(c.isCorrection).isCap(c.isCap)
        .logCompletions(c.logCompletions).threads(c.threads.threads).device(c.deviceOption.device).resume(c.resume)
        .build();
  }

  @Test
  void configFileFillsRequiredAndMixinOptionsAndTheCommandLineWins() throws Exception {
    Path cfg = Files.writeString(tmp.resolve("run.yaml"), "model: m\ndata: d.jsonl\nlr: 1e-3\nschedule: cosine\n"
        + "warmup_steps: 3\ntemperature: 0.7\ntop-k: 5\ndevice: cpu\nresume: true\n");
    TrainCommand c = parse(new TrainCommand(), "--config", cfg.toString(), "--out", "o", "--temperature", "0.9");
    assertThat(c.paths.model).isEqualTo(Path.of("m"));
    assertThat(c.paths.data).isEqualTo(Path.of("d.jsonl"));
    assertThat(c.optimizer.learningRate).isEqualTo(1e-3);
    assertThat(c.optimizer.schedule).isEqualTo(LrSchedule.Kind.COSINE);
    assertThat(c.optimizer.warmupSteps).isEqualTo(3);
    assertThat(c.optimizer.weightDecay).isEqualTo(Double.parseDouble(GrpoConfig.DEFAULT_WEIGHT_DECAY));
    assertThat(c.sampling.temperature).isEqualTo(0.9); // the flag wins
    assertThat(c.sampling.topK).isEqualTo(5);
    assertThat(c.deviceOption.device).isEqualTo(Device.CPU);
    assertThat(c.resume).isTrue();
    assertThat(c.beta).isEqualTo(Double.parseDouble(GrpoConfig.DEFAULT_BETA));
  }

  @Test
  void withoutAConfigTheRequiredFlagsAreReported() {
    var r = Cli.run("train", "--out", tmp.resolve("o").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required options").contains("--model").contains("--data");
    assertThat(tmp.resolve("o")).doesNotExist();
  }

  @Test
  void theFileIsCheckedEvenWhenTheCommandLineGivesEverything() throws Exception {
    Path cfg = Files.writeString(tmp.resolve("run.yaml"), "no_such_option: 1\n");
    var r = Cli.run("train", "--config", cfg.toString(), "--model", "m", "--data", "d.jsonl", "--out",
        tmp.resolve("o").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: " + cfg + ": unknown option \"no_such_option\"");
  }

  @Test
  void helpShowsEachCommandsOptimizerDefaults() {
    assertThat(Cli.run("sft", "--help").out()).contains("(default: " + SftOptions.DEFAULT_LEARNING_RATE + ")");
    assertThat(Cli.run("pretrain", "--help").out()).contains("(default: " + SftOptions.PRETRAIN_LEARNING_RATE + ")");
    assertThat(Cli.run("train", "--help").out()).contains("(default: " + GrpoConfig.DEFAULT_LEARNING_RATE + ")")
        .contains("(default: " + GrpoConfig.DEFAULT_SCHEDULE + ")");
  }

  @Test
  void unknownNamesOfEnumFlagsReadAsBefore() {
    var d = Cli.run("generate", "--model", "m", "--prompt", "hi", "--device", "tpu");
    assertThat(d.code()).isEqualTo(1);
    assertThat(d.err()).isEqualTo("error: --device \"tpu\" is not known: use cpu or cuda" + System.lineSeparator());
    var f = Cli.run("export", "--model", "m", "--out", tmp.resolve("x").toString(), "--format", "zip");
    assertThat(f.err()).startsWith("error: --format \"zip\" is not known: use onnx, safetensors, both or onnx-adapter");
    var l = Cli.run("bench", "generate", "--json", tmp.resolve("b.json").toString(), "--logits", "some");
    assertThat(l.err()).startsWith("error: --logits \"some\" is not known: use last or all");
  }
}
