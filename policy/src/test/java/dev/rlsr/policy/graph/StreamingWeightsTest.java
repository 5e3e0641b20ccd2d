// Weights and optimizer moments in and out of the TensorFlow graph one tensor at a time: setWeights from a lazy file
// source and the variables() view round-trip bit for bit, refusals change nothing, and a run resumed from streamed
// files (weights, then AdamW.restore of the moments) continues bit for bit like the run that never stopped.
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

import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.checkpoint.SafetensorsSource;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.optim.AdamW;
import dev.rlsr.policy.optim.OptimizerState;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamingWeightsTest {
  @TempDir Path tmp;

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
  void weightsFromALazyFileRoundTripThroughTheVariablesBitForBit() {
    ModelConfig c = TinyCheckpoints.qwen2(false);
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), c, Safetensors.DType.BF16, 4);
    ModelWeights eager = ModelWeights.fromLoaded(c, Safetensors.readModelDir(dir), dir.toString());
    try (SafetensorsSource file = SafetensorsSource.openModelDir(dir);
        PolicyGraph g = PolicyGraph.create(c, file, PolicyGraph.Options.inference(1), List.of())) {
      TensorSource vars = g.variables();
      assertThat(vars.shapes().keySet()).containsExactlyElementsOf(ModelWeights.layout(c).keySet());
      for (var e : eager.tensors().entrySet()) {
        float[] want = e.getValue().data();
        assertThat(vars.read(e.getKey()).data()).as(e.getKey()).isEqualTo(want);
        FloatBuffer direct = ByteBuffer.allocateDirect((want.length + 2) * 4).order(ByteOrder.nativeOrder())
            .asFloatBuffer();
        direct.put(-1f);
        vars.readInto(e.getKey(), direct);
        assertThat(direct.position()).isEqualTo(want.length + 1);
        float[] got = new float[want.length];
        direct.position(1);
        direct.get(got);
        assertThat(got).as(e.getKey()).isEqualTo(want);
      }
      // the logits equal those of a graph loaded the old way, from the tensors in memory
      try (PolicyGraph inMemory = PolicyGraph.create(eager, PolicyGraph.Options.inference(1), List.of())) {
        assertThat(g.logits(IDS, MASK, positions(4, 6))).isEqualTo(inMemory.logits(IDS, MASK, positions(4, 6)));
      }
    }
  }

  @Test
  void aTensorReadAgainOrThroughANewViewIsCurrent() {
    ModelWeights w0 = ModelWeights.random(tiny("llama", true), 2);
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      TensorSource vars = g.variables();
      String name = "model.layers.0.self_attn.q_proj.weight";
      String sibling = "model.layers.1.mlp.up_proj.weight"; // in the same fetch group: the model is tiny
      float[] before = vars.read(name).data();
      float[] siblingBefore = g.getWeights().get(sibling).data();
      steps(g, 1);
      // a tensor read again is fetched again, and a new view sees every change
      assertThat(vars.read(name).data()).isNotEqualTo(before);
      assertThat(vars.read(name).data()).isEqualTo(g.getWeights().get(name).data());
      float[] siblingAfter = g.variables().read(sibling).data();
      assertThat(siblingAfter).isNotEqualTo(siblingBefore).isEqualTo(g.getWeights().get(sibling).data());
    }
  }

  @Test
  void aSourceThatDoesNotFitIsRefusedBeforeAnythingChanges() {
    ModelConfig c = tiny("qwen2", true);
    ModelWeights w0 = ModelWeights.random(c, 3);
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.inference(1), List.of())) {
      LinkedHashMap<String, FloatTensor> missing = new LinkedHashMap<>(ModelWeights.random(c, 4).tensors());
      missing.remove("model.layers.1.mlp.gate_proj.weight");
      assertThatThrownBy(() -> g.setWeights(TensorSource.of(missing))).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("model.layers.1.mlp.gate_proj.weight");
      LinkedHashMap<String, FloatTensor> reshaped = new LinkedHashMap<>(ModelWeights.random(c, 4).tensors());
      reshaped.put("model.norm.weight", FloatTensor.zeros(2, 16));
      assertThatThrownBy(() -> g.setWeights(TensorSource.of(reshaped))).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("model.norm.weight").hasMessageContaining("[2, 16]");
      ModelWeights now = g.getWeights();
      for (String name : w0.tensors().keySet()) {
        assertThat(now.get(name).data()).as(name).isEqualTo(w0.get(name).data());
      }
    }
  }

  @Test
  void aRunResumedFromStreamedFilesContinuesBitForBit() throws Exception {
    ModelWeights w0 = ModelWeights.random(tiny("qwen2", false), 7);
    Path weights = tmp.resolve("model.safetensors");
    Path moments = tmp.resolve("optimizer.safetensors");
    ModelWeights straight;
    OptimizerState mid;
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      steps(g, 2);
      Safetensors.write(weights, g.variables(), Safetensors.DType.F32, Map.of());
      Safetensors.write(moments, g.training().optimizer().moments(), Safetensors.DType.F32, Map.of());
      mid = g.training().optimizerState();
      steps(g, 2);
      straight = g.getWeights();
    }
    // the moments file holds m.NAME of every parameter in order, then v.NAME, with the optimizer's values
    List<String> names = new ArrayList<>(w0.tensors().keySet());
    List<String> expected = new ArrayList<>();
    names.forEach(n -> expected.add(AdamW.firstMoment(n)));
    names.forEach(n -> expected.add(AdamW.secondMoment(n)));
    LinkedHashMap<String, FloatTensor> written = Safetensors.read(moments);
    assertThat(written.keySet()).containsExactlyElementsOf(expected);
    for (String n : names) {
      assertThat(written.get(AdamW.firstMoment(n)).data()).isEqualTo(mid.m().get(n).data());
      assertThat(written.get(AdamW.secondMoment(n)).data()).isEqualTo(mid.v().get(n).data());
    }

    ModelWeights resumed;
    try (SafetensorsSource w = SafetensorsSource.open(weights); SafetensorsSource m = SafetensorsSource.open(moments);
        PolicyGraph g = PolicyGraph.create(w0.config(), w, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      g.training().optimizer().restore(m, 2);
      assertThat(g.training().step()).isEqualTo(2);
      steps(g, 2);
      resumed = g.getWeights();
    }
    for (String name : names) {
      assertThat(resumed.get(name).data()).as(name).isEqualTo(straight.get(name).data());
    }
  }

  @Test
  void restoringIncompleteMomentsIsRefused() {
    ModelConfig c = tiny("llama", true);
    ModelWeights w0 = ModelWeights.random(c, 1);
    try (PolicyGraph g = PolicyGraph.create(w0, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      LinkedHashMap<String, FloatTensor> mv = new LinkedHashMap<>();
      w0.tensors().forEach((n, t) -> {
        mv.put(AdamW.firstMoment(n), FloatTensor.zeros(t.shape()));
        mv.put(AdamW.secondMoment(n), FloatTensor.zeros(t.shape()));
      });
      mv.remove(AdamW.secondMoment("model.norm.weight"));
      assertThatThrownBy(() -> g.training().optimizer().restore(TensorSource.of(mv), 3))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no moments for model.norm.weight");
      mv.put(AdamW.secondMoment("model.norm.weight"), FloatTensor.zeros(3));
      assertThatThrownBy(() -> g.training().optimizer().restore(TensorSource.of(mv), 3))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("v.model.norm.weight");
      assertThat(g.training().step()).isZero();
    }
  }
}
