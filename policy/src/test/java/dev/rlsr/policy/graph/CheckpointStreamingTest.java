// Checkpoints written from a live graph (PolicyGraph.variables, AdamW.moments) hold exactly the weights and moments
// of the graph in the usual file layout; Checkpoints.load opens them lazily and a graph restored from it continues
// bit for bit like the run that never stopped; damaged optimizer files are refused by name.
package dev.rlsr.policy.graph;

import static dev.rlsr.policy.graph.PolicyGraphTest.IDS;
import static dev.rlsr.policy.graph.PolicyGraphTest.MASK;
import static dev.rlsr.policy.graph.PolicyGraphTest.lossMask;
import static dev.rlsr.policy.graph.PolicyGraphTest.positions;
import static dev.rlsr.policy.graph.PolicyGraphTest.targets;
import static dev.rlsr.policy.graph.PolicyGraphTest.total;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.optim.AdamW;
import dev.rlsr.policy.optim.OptimizerState;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStreamingTest {
  @TempDir Path tmp;

  private static void steps(PolicyGraph g, int n) {
    float[][] lm = lossMask(MASK);
    SftLoss.Inputs in = new SftLoss.Inputs(new TokenBatch(IDS, targets(IDS), MASK, positions(4, 6)), lm, 1f / total(lm));
    for (int i = 0; i < n; i++) {
      g.training().accumulate(new SftLoss(), in);
      assertThat(g.training().applyGradients(1e-2, 0.1, 1.0).applied()).isTrue();
    }
  }

  private static ObjectNode state(long step) {
    ObjectNode s = Json.MAPPER.createObjectNode();
    s.put("optimizer_step", step);
    return s;
  }

  @Test
  void aCheckpointOfALiveGraphResumesBitForBit() throws Exception {
    ModelConfig c = TinyCheckpoints.qwen2(false);
    Path base = TinyCheckpoints.write(tmp.resolve("base"), c, Safetensors.DType.BF16, 3);
    Checkpoints ckpts = new Checkpoints(tmp.resolve("out"));
    ObjectNode runConfig = Json.MAPPER.createObjectNode().put("lr", 0.01);
    ModelWeights straight;
    ModelWeights mid;
    OptimizerState midState;
    Path saved;
    try (HfModel m = HfModel.load(base);
        PolicyGraph g = PolicyGraph.create(c, m.tensors(), PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      steps(g, 2);
      saved = ckpts.save(2, new Checkpoints.Snapshot(c, g.variables(), g.training().optimizer().moments(),
          g.training().step()), m.tokenizer(), state(2), runConfig, 0);
      mid = g.getWeights();
      midState = g.training().optimizerState();
      steps(g, 2);
      straight = g.getWeights();
    }
    // the files hold the graph's values: fp32 weights in layout order, m.NAME then v.NAME, step in the metadata
    LinkedHashMap<String, FloatTensor> weights = Safetensors.read(saved.resolve(Safetensors.SINGLE_FILE));
    assertThat(weights.keySet()).containsExactlyElementsOf(ModelWeights.layout(c).keySet());
    weights.forEach((n, t) -> assertThat(t.data()).as(n).isEqualTo(mid.get(n).data()));
    Path opt = saved.resolve(Checkpoints.OPTIMIZER);
    LinkedHashMap<String, FloatTensor> mv = Safetensors.read(opt);
    LinkedHashMap<String, FloatTensor> expected = new LinkedHashMap<>();
    midState.m().forEach((n, t) -> expected.put(AdamW.firstMoment(n), t));
    midState.v().forEach((n, t) -> expected.put(AdamW.secondMoment(n), t));
    assertThat(mv.keySet()).containsExactlyElementsOf(expected.keySet());
    mv.forEach((n, t) -> assertThat(t.data()).as(n).isEqualTo(expected.get(n).data()));
    Path legacy = tmp.resolve("legacy-optimizer.safetensors");
    Safetensors.write(legacy, expected, Safetensors.DType.F32, Map.of("step", "2"));
    assertThat(Files.readAllBytes(opt)).isEqualTo(Files.readAllBytes(legacy));
    assertThat(Checkpoints.REQUIRED).allSatisfy(f -> assertThat(saved.resolve(f)).isRegularFile());

    ModelWeights resumed;
    try (Checkpoints.Loaded ck = Checkpoints.load(saved, c);
        PolicyGraph g = PolicyGraph.create(c, ck.weights(), PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      assertThat(ck.optimizerStep()).isEqualTo(2);
      g.training().optimizer().restore(ck.moments(), ck.optimizerStep());
      steps(g, 2);
      resumed = g.getWeights();
    }
    for (String n : straight.tensors().keySet()) {
      assertThat(resumed.get(n).data()).as(n).isEqualTo(straight.get(n).data());
    }
  }

  @Test
  void damagedOptimizerFilesAreRefusedByName() throws Exception {
    ModelConfig c = TinyCheckpoints.llama(true);
    Path base = TinyCheckpoints.write(tmp.resolve("base"), c, Safetensors.DType.F32, 1);
    Checkpoints ckpts = new Checkpoints(tmp.resolve("out"));
    Path saved;
    try (HfModel m = HfModel.load(base);
        PolicyGraph g = PolicyGraph.create(c, m.tensors(), PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      saved = ckpts.save(1, new Checkpoints.Snapshot(c, g.variables(), g.training().optimizer().moments(), 0),
          m.tokenizer(), state(0), Json.MAPPER.createObjectNode(), 0);
    }
    Path opt = saved.resolve(Checkpoints.OPTIMIZER);
    LinkedHashMap<String, FloatTensor> mv = Safetensors.read(opt);
    mv.remove(AdamW.firstMoment("model.layers.1.mlp.up_proj.weight"));
    Safetensors.write(opt, mv, Safetensors.DType.F32, Map.of());
    assertThatThrownBy(() -> Checkpoints.load(saved, c)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(opt.toString())
        .hasMessageContaining("missing optimizer moments for \"model.layers.1.mlp.up_proj.weight\"");
    mv.put(AdamW.firstMoment("model.layers.1.mlp.up_proj.weight"), FloatTensor.zeros(4, 4));
    Safetensors.write(opt, mv, Safetensors.DType.F32, Map.of());
    assertThatThrownBy(() -> Checkpoints.load(saved, c)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("model.layers.1.mlp.up_proj.weight").hasMessageContaining("[4, 4]");
    assertThatThrownBy(() -> Checkpoints.load(saved, TinyCheckpoints.qwen2(false))).isInstanceOf(RlsrException.class)
        .hasMessageContaining("architecture differs");
  }
}
