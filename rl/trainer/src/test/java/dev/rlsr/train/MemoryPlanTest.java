// The memory plan against the peaks measured on this project's machine (RSS of whole runs, sampled every 0.5 s): it
// must never be below one and stay within 30% above, and its items, phases and suggested fixes must add up.
package dev.rlsr.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.rl.GrpoConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryPlanTest {
  static final long MIB = 1L << 20;
  static final long GIB = 1L << 30;
  /** The heap every measured run had (the launcher's old -Xmx8g). */
  static final long HEAP = 8 * GIB;

  /** Qwen2.5-0.5B's shape with {@code layers} layers (24: the real one; 2: /work/models/qwen2.5-0.5b-2l). */
  static ModelConfig qwen(int layers) {
    return ModelConfig.builder("qwen2").vocabSize(151936).hiddenSize(896).intermediateSize(4864).layers(layers)
        .heads(14).kvHeads(2).tied(true).ropeTheta(1e6).maxPositions(32768).build();
  }

  /** The 8-layer real-width model with the demo's 1,088-token vocabulary (rlsr pretrain --tokenizer models/demo-base). */
  static ModelConfig narrowVocab() {
    return ModelConfig.builder("llama").vocabSize(1088).hiddenSize(896).intermediateSize(4864).layers(8).heads(14)
        .kvHeads(2).tied(true).maxPositions(2048).build();
  }

  static SftOptions.Builder sft(int batch, int seq) {
    return SftOptions.builder().model(Path.of("m")).data(Path.of("d")).out(Path.of("o")).batchSize(batch)
        .maxSeqLen(seq);
  }

  static MemoryPlan plan(ModelConfig c, SftOptions o) {
    return MemoryPlan.of(c, MemoryPlan.sft("sft", o, "--batch-size", "--max-seq-len", 0), HEAP);
  }

  /** A measured run: its peak RSS in MiB (VmRSS). */
  record Measured(String what, MemoryPlan plan, long peakMib) {}

  /**
   * Peaks of whole runs of the streamed code (weights, moments and syncs move tensor by tensor), measured with
   * /usr/bin/time -v (maximum resident set size) on the random Qwen2.5-0.5B checkpoints, 2 cores, 24 GiB. The train
   * rows are of the code that releases the rollout session after the rollouts, 2 iterations with a checkpoint after
   * each: the largest of several runs (24 layers: 18.89 GiB uninterrupted, 19.26 GiB resumed from its first
   * checkpoint; 2 layers: 7.89 GiB by /usr/bin/time, 8.21 GiB in VmRSS samples of another run).
   */
  static List<Measured> measured() {
    GrpoConfig rlsr = GrpoConfig.builder().model(Path.of("m")).data(Path.of("d")).out(Path.of("o")).iterations(1)
        .promptsPerIteration(4).numGenerations(4).maxCompletionLength(64).microBatchSize(4).build();
    return List.of(
        new Measured("sft 2 layers, 1 x 256, --grad-accum 4, 2 steps and the final checkpoint",
            plan(qwen(2), sft(1, 256).gradAccum(4).maxSteps(2).build()), 7_587_764 / 1024),
        new Measured("sft 24 layers, 1 x 256, --grad-accum 4, 2 steps and the final checkpoint",
            plan(qwen(24), sft(1, 256).gradAccum(4).maxSteps(2).build()), 15_559_332 / 1024),
        new Measured("sft 24 layers, 4 x 256, 2 steps, a checkpoint after each",
            plan(qwen(24), sft(4, 256).maxSteps(2).saveEvery(1).build()), 16_352_380 / 1024), // 15.59 GiB on a
        // later session's machine (AMD EPYC), 14.53 GiB on the first; the larger counts
        new Measured("train 2 layers, P=4 G=4, 64 new tokens, micro-batch 4",
            MemoryPlan.of(qwen(2), MemoryPlan.rlsr(rlsr, MemoryPlan.EMBEDDER_BUILT_IN_BYTES), HEAP), 8_608_809 / 1024),
        new Measured("train 24 layers, P=4 G=4, 64 new tokens, micro-batch 4",
            MemoryPlan.of(qwen(24), MemoryPlan.rlsr(rlsr, MemoryPlan.EMBEDDER_BUILT_IN_BYTES), HEAP), 20_193_776 / 1024),
        // LoRA r 16 all-linear at the Llama-3.2-1B shape (random bf16 weights), /usr/bin/time -v
        new Measured("sft LoRA r16, Llama-3.2-1B, 4 x 256, 3 steps, checkpoints at 2 and 3",
            plan(llama1b(), sft(4, 256).lora(LoraConfig.of(16)).maxSteps(3).saveEvery(2).build()), 11_148_652 / 1024),
        new Measured("train LoRA r16, Llama-3.2-1B, P=4 G=4, 64 new tokens, micro-batch 2",
            MemoryPlan.of(llama1b(), MemoryPlan.rlsr(rlsr.toBuilder().microBatchSize(2).lora(LoraConfig.of(16)).build(),
                MemoryPlan.EMBEDDER_BUILT_IN_BYTES), HEAP), 15_686_000 / 1024)); // 14.96 GiB
  }

  @Test
  void theEstimateIsNeverBelowAMeasuredPeakAndAtMostThirtyPercentAbove() {
    StringBuilder table = new StringBuilder();
    for (Measured m : measured()) {
      double ratio = m.plan().total() / (double) (m.peakMib() * MIB);
      table.append(String.format("%-70s measured %6.2f GiB, plan %6.2f GiB (%s), %+.1f%%%n", m.what(),
          m.peakMib() / 1024.0, m.plan().total() / (double) GIB, m.plan().phase(), 100 * (ratio - 1)));
    }
    System.out.print(table);
    for (Measured m : measured()) {
      assertThat(m.plan().total() / (double) (m.peakMib() * MIB)).as(m.what() + "\n" + table).isBetween(1.0, 1.3);
    }
  }

  @Test
  void qwenHalfBillionHasItsPublishedParameterCountAndFourBytesPerWeight() {
    MemoryPlan p = plan(qwen(24), sft(1, 256).build());
    assertThat(p.parameterCount()).isEqualTo(494_032_768L);
    assertThat(item(p, "weights")).isEqualTo(4 * 494_032_768L);
    assertThat(item(p, "gradients")).isEqualTo(4 * 494_032_768L);
    assertThat(item(p, "AdamW moments")).isEqualTo(8 * 494_032_768L);
    assertThat(p.items().stream().mapToLong(MemoryPlan.Item::bytes).sum()).isEqualTo(p.total());
    assertThat(p.summary()).startsWith("about " + MemoryPlan.gib(p.total()) + " GiB at its peak, in ")
        .contains("weights 1.8, gradients 1.8, AdamW moments 3.7");
  }

  @Test
  void activationsGrowWithRowsAndQuadraticallyInAttentionAndAreNamedByTheirFlags() {
    MemoryPlan small = plan(qwen(24), sft(8, 1024).build());
    long a1 = item(small, "activations at --batch-size 8 x --max-seq-len 1024");
    long a2 = item(plan(qwen(24), sft(16, 1024).build()), "activations at --batch-size 16 x --max-seq-len 1024");
    long a3 = item(plan(qwen(24), sft(8, 2048).build()), "activations at --batch-size 8 x --max-seq-len 2048");
    assertThat(a2).isEqualTo(2 * a1);
    assertThat(a3).isGreaterThan(2 * a1); // the [rows, heads, T, T] attention terms
    assertThat(small.phase()).isEqualTo(MemoryPlan.Phase.STEP);
    assertThat(small.breakdown()).contains("activations at --batch-size 8 x --max-seq-len 1024: ");
    // the chunked head's budget bounds the log-prob head, whatever the micro-batch
    assertThat(item(small, "log-prob head")).isEqualTo(MemoryPlan.LOGPROB_HEAD_BUDGET_BYTES);
  }

  @Test
  void theFixIsTheLargestBatchThatFitsWithTheGradAccumThatKeepsTheEffectiveBatch() {
    MemoryPlan p = plan(qwen(24), sft(8, 1024).gradAccum(2).build());
    long available = 20 * GIB;
    assertThat(p.total()).isGreaterThan(available);
    int fits = 0;
    for (int b = 7; b >= 1 && fits == 0; b--) {
      if (plan(qwen(24), sft(b, 1024).gradAccum(2).build()).total() <= available) {
        fits = b;
      }
    }
    assertThat(fits).as("some batch size fits in 20 GiB").isBetween(1, 7);
    MemoryPlan chosen = plan(qwen(24), sft(fits, 1024).build());
    assertThat(p.fixes(available).get(0)).isEqualTo("lower --batch-size to " + fits + " (about "
        + MemoryPlan.gib(chosen.total()) + " GiB; --grad-accum " + (16 + fits - 1) / fits
        + " keeps the effective batch)");
    assertThat(p.fixes(available)).anyMatch(f -> f.startsWith("lower --max-seq-len to "));
    assertThat(p.fixes(GIB)).as("nothing fits in 1 GiB").isEmpty();
  }

  @Test
  void rlsrCountsReferenceRolloutSessionAndEmbedderAndSuggestsItsOwnFlags() {
    GrpoConfig g = GrpoConfig.builder().model(Path.of("m")).data(Path.of("d")).out(Path.of("o")).build();
    MemoryPlan p = MemoryPlan.of(qwen(24), MemoryPlan.rlsr(g, MemoryPlan.EMBEDDER_BUILT_IN_BYTES), HEAP);
    assertThat(item(p, "reference model")).isEqualTo(4 * p.parameterCount());
    // train releases the rollout session after the rollouts: a training step runs without it
    assertThat(p.phase()).isEqualTo(MemoryPlan.Phase.STEP);
    assertThat(p.items()).noneMatch(i -> i.label().equals("rollout session"));
    assertThat(item(p, "reward embedder")).isEqualTo(MemoryPlan.EMBEDDER_BUILT_IN_BYTES);
    assertThat(p.breakdown()).contains("activations at --micro-batch-size 16 x 384 tokens: ");
    MemoryPlan noBeta = MemoryPlan.of(qwen(24), MemoryPlan.rlsr(g.toBuilder().beta(0).build(), 0), HEAP);
    assertThat(noBeta.items()).noneMatch(i -> i.label().equals("reference model"));
    long two = MemoryPlan.of(qwen(24), MemoryPlan.rlsr(g.toBuilder().microBatchSize(2).build(),
        MemoryPlan.EMBEDDER_BUILT_IN_BYTES), HEAP).total();
    assertThat(p.fixes(two).get(0)).isEqualTo("lower --micro-batch-size to 2 (about " + MemoryPlan.gib(two) + " GiB)");
    // rollouts of many long rows peak in the rollout phase, and the fix is a smaller --generation-batch-size
    GrpoConfig wide = g.toBuilder().microBatchSize(1).promptsPerIteration(64).numGenerations(16)
        .maxPromptLength(2048).maxCompletionLength(2048).build();
    MemoryPlan r = MemoryPlan.of(qwen(24), MemoryPlan.rlsr(wide, 0), HEAP);
    assertThat(r.phase()).isEqualTo(MemoryPlan.Phase.ROLLOUT);
    assertThat(item(r, "rollout session")).isGreaterThan(2 * 4 * r.parameterCount());
    assertThat(r.fixes(r.total() - GIB)).anyMatch(f -> f.startsWith("lower --generation-batch-size to "));
  }

  @Test
  void aLoraRunCountsTheFrozenBaseOnceAndSixteenBytesPerAdapterParameter() {
    LoraConfig lora = LoraConfig.of(8);
    long adapter = MemoryPlan.adapterParameters(qwen(24), lora);
    // r (in + out) per projection: q 896+896, k 896+128, v 896+128, o 896+896, gate, up 896+4864, down 4864+896
    assertThat(adapter).isEqualTo(24L * 8 * (1792 + 1024 + 1024 + 1792 + 3 * 5760));
    MemoryPlan s = plan(qwen(24), sft(4, 256).lora(lora).build());
    assertThat(item(s, "frozen weights")).isEqualTo(4 * s.parameterCount());
    assertThat(item(s, "LoRA adapter (weights, gradients, AdamW moments)")).isEqualTo(16 * adapter);
    assertThat(s.items()).noneMatch(i -> i.label().equals("gradients") || i.label().equals("AdamW moments"));
    assertThat(s.total()).isLessThan(plan(qwen(24), sft(4, 256).build()).total() - 2 * 4 * s.parameterCount());

    GrpoConfig g = GrpoConfig.builder().model(Path.of("m")).data(Path.of("d")).out(Path.of("o")).beta(0.04)
        .lora(lora).build();
    MemoryPlan r = MemoryPlan.of(qwen(24), MemoryPlan.rlsr(g, MemoryPlan.EMBEDDER_BUILT_IN_BYTES), HEAP);
    assertThat(r.items()).noneMatch(i -> i.label().equals("reference model")); // the graph with the adapter off
    assertThat(item(r, "LoRA adapter (weights, gradients, AdamW moments)")).isEqualTo(16 * adapter);
  }

  /** Llama-3.2-1B's published shape (1.24B parameters, tied embeddings). */
  static ModelConfig llama1b() {
    return ModelConfig.builder("llama").vocabSize(128256).hiddenSize(2048).intermediateSize(8192).layers(16)
        .heads(32).kvHeads(8).tied(true).maxPositions(131072).build();
  }

  @Test
  void fullFineTuningThatDoesNotFitIsPointedAtLoraWhereThatFits() {
    long available = 23L * GIB;
    MemoryPlan full = plan(llama1b(), sft(4, 256).build());
    assertThat(full.total()).as("full fine-tuning of 1.24B needs more than 24 GiB").isGreaterThan(available);
    MemoryPlan lora = plan(llama1b(), sft(4, 256).lora(LoraConfig.of(MemoryPlan.SUGGESTED_LORA_R)).build());
    assertThat(full.fixes(available)).containsExactly("--lora-r 16 (train a LoRA adapter on the frozen model instead"
        + " of every weight: about " + MemoryPlan.gib(lora.total()) + " GiB)");
    // pretraining from scratch has no base to adapt
    MemoryPlan pre = MemoryPlan.of(llama1b(), MemoryPlan.sft("pretrain", sft(4, 256).build(), "--batch-size",
        "--max-seq-len", 0), HEAP);
    assertThat(pre.fixes(available)).noneMatch(f -> f.contains("--lora-r"));
    // an RLSR run the same way, its reference copy gone with the adapter
    GrpoConfig g = GrpoConfig.builder().model(Path.of("m")).data(Path.of("d")).out(Path.of("o")).beta(0.04)
        .promptsPerIteration(4).numGenerations(4).maxCompletionLength(64).microBatchSize(2).build();
    MemoryPlan r = MemoryPlan.of(llama1b(), MemoryPlan.rlsr(g, MemoryPlan.EMBEDDER_BUILT_IN_BYTES), HEAP);
    assertThat(r.total()).isGreaterThan(available);
    assertThat(r.fixes(available)).last().asString().startsWith("--lora-r 16 (");
    // a LoRA run is not told to use LoRA
    assertThat(lora.fixes(GIB)).noneMatch(f -> f.contains("--lora-r"));
  }

  @Test
  void theHeapIsCappedByXmxAndItsNeedCountsTheCheckpointCopies() {
    MemoryPlan small = MemoryPlan.of(qwen(24), MemoryPlan.sft("sft", sft(1, 256).build(), "--batch-size",
        "--max-seq-len", 0), 2 * GIB);
    assertThat(item(small, "Java heap")).isPositive().isLessThanOrEqualTo(2 * GIB);
    // weights and moments stream: the heap needs its base, one streaming group and the largest tensor, not a model copy
    assertThat(small.heapNeeded()).isGreaterThan(MemoryPlan.STREAM_GROUP_BYTES + 4L * 151936 * 896)
        .isLessThan(4 * small.parameterCount());
  }

  private static long item(MemoryPlan p, String label) {
    return p.items().stream().filter(i -> i.label().equals(label)).mapToLong(MemoryPlan.Item::bytes).findFirst()
        .orElseThrow(() -> new AssertionError("no item \"" + label + "\" in " + p.breakdown()));
  }
}
