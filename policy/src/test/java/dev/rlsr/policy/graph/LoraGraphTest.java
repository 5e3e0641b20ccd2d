// A LoRA adapter in the TensorFlow graph: with B = 0 it is the base model, a non-zero adapter equals the base graph on
// the merged weights (MergedLora), a step moves only the adapter (no optimizer state for the frozen base), scale 0
// gives the base's log-probs in the same graph, PEFT's initialisation, and dropout only in training passes.
package dev.rlsr.policy.graph;

import static dev.rlsr.policy.graph.PolicyGraphTest.IDS;
import static dev.rlsr.policy.graph.PolicyGraphTest.MASK;
import static dev.rlsr.policy.graph.PolicyGraphTest.lossMask;
import static dev.rlsr.policy.graph.PolicyGraphTest.positions;
import static dev.rlsr.policy.graph.PolicyGraphTest.targets;
import static dev.rlsr.policy.graph.PolicyGraphTest.tiny;
import static dev.rlsr.policy.graph.PolicyGraphTest.total;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.MergedLora;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LoraGraphTest {
  static final LoraConfig LORA = new LoraConfig(4, 8, 0, LoraConfig.MODULES);

  static SftLoss.Inputs batch() {
    float[][] lm = lossMask(MASK);
    return new SftLoss.Inputs(new TokenBatch(IDS, targets(IDS), MASK, positions(4, 6)), lm, 1f / total(lm));
  }

  static PolicyGraph.Options lora(PolicyGraph.Options o, LoraConfig l) {
    return o.withLora(l, 11);
  }

  /** An adapter of random A and B (B non-zero, so it changes the model). */
  static Map<String, FloatTensor> randomAdapter(ModelConfig c, LoraConfig l, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    l.layout(c).forEach((name, shape) -> {
      FloatTensor t = FloatTensor.zeros(shape);
      for (int i = 0; i < t.data().length; i++) {
        t.data()[i] = (float) (rng.nextGaussian() * 0.2);
      }
      out.put(name, t);
    });
    return out;
  }

  static float maxDiff(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    float m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void aFreshAdapterIsTheBaseModel() {
    for (String type : List.of("llama", "qwen2")) {
      ModelWeights w = ModelWeights.random(tiny(type, false), 3);
      float[] base;
      float[] adapted;
      try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
        base = g.logits(IDS, MASK, positions(4, 6));
      }
      try (PolicyGraph g = PolicyGraph.create(w, lora(PolicyGraph.Options.inference(1), LORA), List.of())) {
        adapted = g.logits(IDS, MASK, positions(4, 6));
        // PEFT's initialisation: B = 0, A within +-1/sqrt(in) and not all zero
        Map<String, FloatTensor> a = ModelWeights.read(w.config(), g.variables()).tensors(); // base untouched
        assertThat(a.keySet()).isEqualTo(w.tensors().keySet());
        TensorSource adapter = g.adapter();
        for (var e : adapter.shapes().entrySet()) {
          FloatTensor t = adapter.read(e.getKey());
          if (e.getKey().endsWith("lora_B.weight")) {
            assertThat(PolicyGraphTest.maxAbs(t)).as(e.getKey()).isEqualTo(0f);
          } else {
            float bound = (float) (1 / Math.sqrt(e.getValue()[1]));
            assertThat(PolicyGraphTest.maxAbs(t)).as(e.getKey()).isGreaterThan(bound / 2).isLessThanOrEqualTo(bound);
          }
        }
      }
      assertThat(adapted).as(type).isEqualTo(base);
    }
  }

  @Test
  void aRandomAdapterEqualsTheMergedWeights() {
    for (LoraConfig l : List.of(LORA, new LoraConfig(2, 3, 0, List.of("q_proj", "v_proj", "down_proj")))) {
      ModelConfig c = tiny("qwen2", false);
      ModelWeights w = ModelWeights.random(c, 4);
      Map<String, FloatTensor> adapter = randomAdapter(c, l, 5);
      float[] adapted;
      float[] merged;
      float[] base;
      try (PolicyGraph g = PolicyGraph.create(w, lora(PolicyGraph.Options.inference(1), l), List.of())) {
        g.setAdapter(TensorSource.of(adapter));
        adapted = g.logits(IDS, MASK, positions(4, 6));
      }
      try (PolicyGraph g = PolicyGraph.create(c, new MergedLora(c, l, w, TensorSource.of(adapter)),
          PolicyGraph.Options.inference(1), List.of())) {
        merged = g.logits(IDS, MASK, positions(4, 6));
      }
      try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
        base = g.logits(IDS, MASK, positions(4, 6));
      }
      assertThat(maxDiff(adapted, merged)).as(l.targetModules().toString()).isLessThan(1e-4f);
      assertThat(maxDiff(adapted, base)).as("the adapter changes the model").isGreaterThan(1e-2f);
    }
  }

  @Test
  void scaleZeroGivesTheBaseLogprobsInTheSameGraph() {
    ModelConfig c = tiny("llama", true);
    ModelWeights w = ModelWeights.random(c, 6);
    TokenBatch tb = new TokenBatch(IDS, targets(IDS), MASK, positions(4, 6));
    PolicyGraph.TokenOutputs base;
    try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
      base = g.forward(tb, true);
    }
    try (PolicyGraph g = PolicyGraph.create(w, lora(PolicyGraph.Options.training(1), LORA), List.of(new SftLoss()))) {
      g.setAdapter(TensorSource.of(randomAdapter(c, LORA, 7)));
      PolicyGraph.TokenOutputs off = g.forward(tb, true, true);
      PolicyGraph.TokenOutputs on = g.forward(tb, true, false);
      for (int b = 0; b < 4; b++) {
        assertThat(off.logprobs()[b]).isEqualTo(base.logprobs()[b]);
        assertThat(off.entropy()[b]).isEqualTo(base.entropy()[b]);
      }
      assertThat(maxDiff(on.logprobs()[0], base.logprobs()[0])).isGreaterThan(1e-3f);
      assertThat(maxDiff(g.logits(IDS, MASK, positions(4, 6), true), g.logits(IDS, MASK, positions(4, 6))))
          .isGreaterThan(1e-3f);
    }
  }

  @Test
  void aStepMovesOnlyTheAdapter() {
    ModelConfig c = tiny("qwen2", false);
    ModelWeights w0 = ModelWeights.random(c, 8);
    try (PolicyGraph g = PolicyGraph.create(w0, lora(PolicyGraph.Options.training(1), LORA), List.of(new SftLoss()))) {
      List<String> adapterNames = List.copyOf(LORA.layout(c).keySet());
      assertThat(g.training().trainableParameters()).containsExactlyElementsOf(adapterNames);
      Map<String, FloatTensor> a0 = ModelWeights.read(c, g.variables()).tensors();
      LinkedHashMap<String, FloatTensor> ad0 = read(g.adapter());
      for (int i = 0; i < 3; i++) {
        g.training().accumulate(new SftLoss(), batch());
        assertThat(g.training().applyGradients(1e-2, 0.1, 1.0).applied()).isTrue();
      }
      ModelWeights w1 = g.getWeights();
      for (String name : w0.tensors().keySet()) {
        assertThat(w1.get(name).data()).as(name).isEqualTo(w0.get(name).data());
        assertThat(a0.get(name).data()).as(name).isEqualTo(w0.get(name).data());
      }
      LinkedHashMap<String, FloatTensor> ad1 = read(g.adapter());
      for (String name : adapterNames) {
        assertThat(PolicyGraphTest.maxAbsDiff(ad0.get(name), ad1.get(name))).as(name).isGreaterThan(0f);
      }
      var s = g.training().optimizerState();
      assertThat(s.m().keySet()).containsExactlyElementsOf(adapterNames);
      assertThat(s.v().keySet()).containsExactlyElementsOf(adapterNames);
      assertThat(g.training().optimizer().moments().shapes().keySet())
          .allMatch(n -> n.contains(".lora_A.") || n.contains(".lora_B."));
    }
  }

  @Test
  void theAdapterGradientIsTheMergedWeightsGradientProjected() {
    // dL/dB = scale * dL/dW A^T at B = 0: the adapter's gradient follows from the full model's gradient of W
    ModelConfig c = tiny("llama", false);
    ModelWeights w0 = ModelWeights.random(c, 9);
    LoraConfig l = new LoraConfig(2, 6, 0, List.of("up_proj"));
    Map<String, FloatTensor> full;
    Map<String, FloatTensor> adapterGrads;
    LinkedHashMap<String, FloatTensor> a;
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      g.training().accumulate(new SftLoss(), batch());
      full = g.training().accumulatedGradients();
    }
    try (PolicyGraph g = PolicyGraph.create(w0, lora(PolicyGraph.Options.training(1), l), List.of(new SftLoss()))) {
      a = read(g.adapter());
      g.training().accumulate(new SftLoss(), batch());
      adapterGrads = g.training().accumulatedGradients();
    }
    String p = "model.layers.1.mlp.up_proj";
    FloatTensor gw = full.get(p + ".weight"); // [out, in]
    FloatTensor aa = a.get(LoraConfig.aName(p)); // [r, in]
    int out = (int) gw.shape()[0];
    int in = (int) gw.shape()[1];
    FloatTensor want = FloatTensor.zeros(out, 2);
    for (int o = 0; o < out; o++) {
      for (int k = 0; k < 2; k++) {
        double s = 0;
        for (int i = 0; i < in; i++) {
          s += gw.data()[o * in + i] * aa.data()[k * in + i];
        }
        want.data()[o * 2 + k] = (float) (l.scale() * s);
      }
    }
    assertThat(PolicyGraphTest.relativeL2(want, adapterGrads.get(LoraConfig.bName(p)))).isLessThan(1e-4);
    assertThat(PolicyGraphTest.maxAbs(adapterGrads.get(LoraConfig.aName(p)))).isEqualTo(0f); // B = 0
  }

  @Test
  void dropoutActsOnlyInTrainingPasses() {
    ModelConfig c = tiny("llama", true);
    ModelWeights w = ModelWeights.random(c, 10);
    LoraConfig dropped = new LoraConfig(4, 8, 0.5, LoraConfig.MODULES);
    Map<String, FloatTensor> adapter = randomAdapter(c, dropped, 12);
    TokenBatch tb = new TokenBatch(IDS, targets(IDS), MASK, positions(4, 6));
    float[] plain;
    Map<String, FloatTensor> g1;
    Map<String, FloatTensor> g2;
    Map<String, FloatTensor> g3;
    try (PolicyGraph g = PolicyGraph.create(w, lora(PolicyGraph.Options.training(1), LORA), List.of(new SftLoss()))) {
      g.setAdapter(TensorSource.of(adapter));
      plain = g.forward(tb, false).logprobs()[0];
      g.training().accumulate(new SftLoss(), batch());
      g1 = g.training().accumulatedGradients();
    }
    try (PolicyGraph g = PolicyGraph.create(w, lora(PolicyGraph.Options.training(1), dropped), List.of(new SftLoss()))) {
      g.setAdapter(TensorSource.of(adapter));
      assertThat(g.forward(tb, false).logprobs()[0]).isEqualTo(plain); // no dropout outside training
      g.training().accumulate(new SftLoss(), batch());
      g2 = g.training().accumulatedGradients();
      g.training().discardGradients();
      g.training().accumulate(new SftLoss(), batch());
      g3 = g.training().accumulatedGradients(); // same step, same micro-batch: the same masks
    }
    String b = LoraConfig.bName("model.layers.0.self_attn.q_proj");
    assertThat(PolicyGraphTest.relativeL2(g1.get(b), g2.get(b))).isGreaterThan(1e-2);
    assertThat(g3.get(b).data()).isEqualTo(g2.get(b).data());
  }

  @Test
  void adapterAccessIsRefusedWithoutOneAndBaseNamesCannotBeTrained() {
    ModelConfig c = tiny("llama", true);
    try (PolicyGraph g = PolicyGraph.create(c, PolicyGraph.Options.inference(1), List.of())) {
      assertThatThrownBy(g::adapter).isInstanceOf(IllegalStateException.class).hasMessageContaining("no LoRA adapter");
    }
    var options = lora(PolicyGraph.Options.training(1), LORA).withTrainableParams(List.of("model.norm.weight"));
    assertThatThrownBy(() -> PolicyGraph.create(c, options, List.of(new SftLoss())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frozen");
  }

  static LinkedHashMap<String, FloatTensor> read(TensorSource s) {
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    for (String n : s.shapes().keySet()) {
      out.put(n, s.read(n).copy());
    }
    return out;
  }
}
