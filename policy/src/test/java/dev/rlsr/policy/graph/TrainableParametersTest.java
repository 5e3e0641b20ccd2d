// The trainable set is a real parameter: with a subset trainable only those weights move (the rest stay
// bit-identical, weight decay included), the optimizer state covers exactly them, and a saved state restored into a
// fresh graph continues bit for bit.
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
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.optim.OptimizerState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainableParametersTest {
  static final List<String> SUBSET = List.of("model.layers.1.self_attn.q_proj.weight", "model.norm.weight",
      "model.layers.0.mlp.down_proj.weight");

  private static SftLoss.Inputs batch() {
    float[][] lm = lossMask(MASK);
    return new SftLoss.Inputs(new TokenBatch(IDS, targets(IDS), MASK, positions(4, 6)), lm, 1f / total(lm));
  }

  private static void steps(PolicyGraph g, int n) {
    for (int i = 0; i < n; i++) {
      g.training().accumulate(new SftLoss(), batch());
      assertThat(g.training().applyGradients(1e-2, 0.1, 1.0).applied()).isTrue();
    }
  }

  @Test
  void onlyTheTrainableSubsetChanges() {
    ModelWeights w0 = ModelWeights.random(tiny("llama", false), 5);
    var options = PolicyGraph.Options.training(1).withTrainableParams(SUBSET);
    try (PolicyGraph g = PolicyGraph.create(w0, options, List.of(new SftLoss()))) {
      assertThat(g.training().trainableParameters()).containsExactlyElementsOf(SUBSET);
      steps(g, 3);
      ModelWeights w1 = g.getWeights();
      for (String name : w0.tensors().keySet()) {
        if (SUBSET.contains(name)) {
          assertThat(PolicyGraphTest.maxAbsDiff(w0.get(name), w1.get(name))).as(name).isGreaterThan(0f);
        } else {
          assertThat(w1.get(name).data()).as(name).isEqualTo(w0.get(name).data());
        }
      }
      OptimizerState s = g.training().optimizerState();
      assertThat(s.step()).isEqualTo(3);
      assertThat(s.m().keySet()).containsExactlyElementsOf(SUBSET);
      assertThat(s.v().keySet()).containsExactlyElementsOf(SUBSET);
      assertThat(g.training().accumulatedGradients().keySet()).containsExactlyElementsOf(SUBSET);
    }
  }

  @Test
  void aSubsetGetsTheGradientTheFullModelGivesIt() {
    ModelWeights w0 = ModelWeights.random(tiny("qwen2", false), 6);
    Map<String, FloatTensor> full;
    Map<String, FloatTensor> part;
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      g.training().accumulate(new SftLoss(), batch());
      full = g.training().accumulatedGradients();
    }
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1).withTrainableParams(SUBSET),
        List.of(new SftLoss()))) {
      g.training().accumulate(new SftLoss(), batch());
      part = g.training().accumulatedGradients();
    }
    for (String name : SUBSET) {
      assertThat(PolicyGraphTest.relativeL2(full.get(name), part.get(name))).as(name).isLessThanOrEqualTo(1e-6);
    }
  }

  @Test
  void unknownTrainableNameIsRefused() {
    var options = PolicyGraph.Options.training(1).withTrainableParams(List.of("model.layers.9.mlp.up_proj.weight"));
    assertThatThrownBy(() -> PolicyGraph.create(tiny("llama", true), options, List.of(new SftLoss())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model.layers.9.mlp.up_proj.weight");
  }

  @Test
  void restoredOptimizerStateContinuesBitForBit() {
    ModelWeights w0 = ModelWeights.random(tiny("llama", true), 7);
    ModelWeights straight;
    ModelWeights resumed;
    ModelWeights mid;
    OptimizerState state;
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      steps(g, 2);
      mid = g.getWeights();
      state = g.training().optimizerState();
      steps(g, 2);
      straight = g.getWeights();
    }
    try (PolicyGraph g = PolicyGraph.create(mid, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      g.training().setOptimizerState(state);
      assertThat(g.training().step()).isEqualTo(2);
      steps(g, 2);
      resumed = g.getWeights();
    }
    for (String name : w0.tensors().keySet()) {
      assertThat(resumed.get(name).data()).as(name).isEqualTo(straight.get(name).data());
    }
  }

  @Test
  void aLossNotBuiltIntoTheGraphIsRefused() {
    try (PolicyGraph g = PolicyGraph.create(ModelWeights.random(tiny("llama", true), 8), PolicyGraph.Options.training(1),
        List.of())) {
      assertThatThrownBy(() -> g.training().accumulate(new SftLoss(), batch()))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no loss sft");
    }
    try (PolicyGraph g = PolicyGraph.create(tiny("llama", true), PolicyGraph.Options.inference(1), List.of())) {
      assertThatThrownBy(g::training).isInstanceOf(IllegalStateException.class);
    }
  }
}
