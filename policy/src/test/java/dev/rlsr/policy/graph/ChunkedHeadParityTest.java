// The chunked log-prob head against the unchunked reference (log_softmax of the full logits, a gather, autodiff):
// token log-probs, entropy and the accumulated gradients of SFT and of a GRPO-like loss, tied and untied heads,
// temperature 1 and 0.7, padding rows, and chunk sizes that do and do not divide the token count.
package dev.rlsr.policy.graph;

import static dev.rlsr.policy.graph.PolicyGraphTest.IDS;
import static dev.rlsr.policy.graph.PolicyGraphTest.MASK;
import static dev.rlsr.policy.graph.PolicyGraphTest.lossMask;
import static dev.rlsr.policy.graph.PolicyGraphTest.positions;
import static dev.rlsr.policy.graph.PolicyGraphTest.targets;
import static dev.rlsr.policy.graph.PolicyGraphTest.total;
import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

class ChunkedHeadParityTest {
  /** Tolerances: log-probs and entropy absolute; gradients ||a - b|| / ||a|| per tensor. */
  static final float VALUE_TOL = 1e-5f;
  static final double GRAD_TOL = 1e-5;
  /** N = 4 x 6 = 24 tokens: 5 and 7 rows per chunk leave a short last chunk, 1 is one row a chunk, 0 one chunk. */
  static final int[] CHUNKS = {5, 7, 1, 0};

  /** Vocab 97 (odd, so no size lines up with it), q/k/v biases on qwen2. */
  static ModelConfig config(String type, boolean tied) {
    return ModelConfig.builder(type).vocabSize(97).hiddenSize(32).intermediateSize(48).layers(2).heads(4).kvHeads(2)
        .tied(tied).ropeTheta(10000.0).maxPositions(128).bosId(1).eosId(2).build();
  }

  static TokenBatch batch() {
    return new TokenBatch(IDS, targets(IDS), MASK, positions(IDS.length, IDS[0].length));
  }

  /** A GRPO-shaped objective: ratio exp(logp - old) times advantages, a k3 KL to a reference, per-token weights. */
  static final class GrpoLike implements LossSpec<GrpoLike.Inputs> {
    record Inputs(TokenBatch tokens, float[][] old, float[][] ref, float[][] adv, float[][] weights)
        implements LossSpec.Inputs {}

    @Override
    public String name() {
      return "grpo_like";
    }

    @Override
    public Outputs<Inputs> build(Context ctx) {
      Ops tf = ctx.tf();
      Placeholder<TFloat32> old = ctx.placeholder("gl_old");
      Placeholder<TFloat32> ref = ctx.placeholder("gl_ref");
      Placeholder<TFloat32> adv = ctx.placeholder("gl_adv");
      Placeholder<TFloat32> weights = ctx.placeholder("gl_weights");
      Operand<TFloat32> logp = ctx.tokenLogprobs();
      Operand<TFloat32> ratio = tf.math.exp(tf.math.sub(logp, old));
      Operand<TFloat32> clipped = tf.math.minimum(tf.math.maximum(ratio, tf.constant(0.8f)), tf.constant(1.2f));
      Operand<TFloat32> pg = tf.math.neg(tf.math.minimum(tf.math.mul(ratio, adv), tf.math.mul(clipped, adv)));
      Operand<TFloat32> gap = tf.math.sub(ref, logp);
      Operand<TFloat32> kl = tf.math.sub(tf.math.sub(tf.math.exp(gap), gap), tf.constant(1f));
      Operand<TFloat32> perToken = tf.math.mul(tf.math.add(pg, tf.math.mul(tf.constant(0.1f), kl)), weights);
      int[] all = {0, 1};
      Map<String, Operand<TFloat32>> metrics = Map.of(
          "entropy_sum", tf.reduceSum(tf.math.mul(ctx.entropy(), weights), tf.constant(all)));
      return new Outputs<>(tf.reduceSum(perToken, tf.constant(all)), metrics, (in, run) -> run.floats(old, in.old())
          .floats(ref, in.ref()).floats(adv, in.adv()).floats(weights, in.weights()));
    }
  }

  static PolicyGraph graph(ModelWeights w, PolicyGraph.Head head, float temperature) {
    PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.training(1).withHead(head),
        List.of(new SftLoss(), new GrpoLike()));
    g.setTemperature(temperature);
    return g;
  }

  static PolicyGraph.Head head(int rows) {
    return rows == 0 ? PolicyGraph.Head.CHUNKED : PolicyGraph.Head.chunked(rows);
  }

  /** GRPO-like inputs: old/ref log-probs near the policy's (ratios within and outside the clip), mixed advantages. */
  static GrpoLike.Inputs grpoInputs(float[][] logp) {
    SplittableRandom rng = new SplittableRandom(11);
    int b = logp.length;
    int t = logp[0].length;
    float[][] old = new float[b][t];
    float[][] ref = new float[b][t];
    float[][] adv = new float[b][t];
    float[][] weights = lossMask(MASK);
    for (int i = 0; i < b; i++) {
      float a = (float) rng.nextDouble(-1.5, 1.5);
      for (int j = 0; j < t; j++) {
        old[i][j] = logp[i][j] + (float) rng.nextDouble(-0.4, 0.4);
        ref[i][j] = logp[i][j] + (float) rng.nextDouble(-0.3, 0.3);
        adv[i][j] = a;
        weights[i][j] *= 1f / (i + 2);
      }
    }
    return new GrpoLike.Inputs(batch(), old, ref, adv, weights);
  }

  @Test
  void logprobsAndEntropyMatchTheReference() {
    double worst = 0;
    for (boolean tied : new boolean[] {true, false}) {
      ModelWeights w = ModelWeights.random(config(tied ? "llama" : "qwen2", tied), tied ? 21 : 22);
      for (float temperature : new float[] {1f, 0.7f}) {
        PolicyGraph.TokenOutputs ref;
        try (PolicyGraph g = graph(w, PolicyGraph.Head.REFERENCE, temperature)) {
          ref = g.forward(batch(), true);
        }
        for (int rows : CHUNKS) {
          try (PolicyGraph g = graph(w, head(rows), temperature)) {
            PolicyGraph.TokenOutputs got = g.forward(batch(), true);
            String what = "tied " + tied + ", T " + temperature + ", rows/chunk " + rows;
            double lp = maxAbsDiff(ref.logprobs(), got.logprobs());
            double ent = maxAbsDiff(ref.entropy(), got.entropy());
            assertThat(lp).as("log-probs, " + what).isLessThanOrEqualTo(VALUE_TOL);
            assertThat(ent).as("entropy, " + what).isLessThanOrEqualTo(VALUE_TOL);
            worst = Math.max(worst, Math.max(lp, ent));
          }
        }
      }
    }
    System.out.printf("chunked head: max |log-prob or entropy - reference| = %.3g%n", worst);
  }

  @Test
  void sftGradientsMatchAutodiffOfTheReference() {
    float[][] lm = lossMask(MASK);
    SftLoss.Inputs in = new SftLoss.Inputs(batch(), lm, 1f / total(lm));
    double worst = 0;
    for (boolean tied : new boolean[] {true, false}) {
      ModelWeights w = ModelWeights.random(config(tied ? "llama" : "qwen2", tied), tied ? 23 : 24);
      for (float temperature : new float[] {1f, 0.7f}) {
        Map<String, FloatTensor> ref;
        Map<String, Float> refOut;
        try (PolicyGraph g = graph(w, PolicyGraph.Head.REFERENCE, temperature)) {
          refOut = g.training().accumulate(new SftLoss(), in);
          ref = g.training().accumulatedGradients();
        }
        for (int rows : CHUNKS) {
          try (PolicyGraph g = graph(w, head(rows), temperature)) {
            Map<String, Float> out = g.training().accumulate(new SftLoss(), in);
            assertThat(out.get("loss")).isCloseTo(refOut.get("loss"), org.assertj.core.data.Offset.offset(1e-5f));
            worst = Math.max(worst, compare(ref, g.training().accumulatedGradients(),
                "SFT, tied " + tied + ", T " + temperature + ", rows/chunk " + rows));
          }
        }
      }
    }
    System.out.printf("chunked head: SFT max relative L2 gradient error = %.3g%n", worst);
  }

  @Test
  void grpoLikeGradientsMatchAutodiffOfTheReference() {
    double worst = 0;
    for (boolean tied : new boolean[] {true, false}) {
      ModelWeights w = ModelWeights.random(config(tied ? "llama" : "qwen2", tied), tied ? 25 : 26);
      for (float temperature : new float[] {1f, 0.7f}) {
        Map<String, FloatTensor> ref;
        Map<String, Float> refOut;
        GrpoLike.Inputs in;
        try (PolicyGraph g = graph(w, PolicyGraph.Head.REFERENCE, temperature)) {
          in = grpoInputs(g.forward(batch(), false).logprobs());
          refOut = g.training().accumulate(new GrpoLike(), in);
          ref = g.training().accumulatedGradients();
        }
        for (int rows : CHUNKS) {
          try (PolicyGraph g = graph(w, head(rows), temperature)) {
            Map<String, Float> out = g.training().accumulate(new GrpoLike(), in);
            String what = "GRPO-like, tied " + tied + ", T " + temperature + ", rows/chunk " + rows;
            assertThat(out.get("loss")).as(what).isCloseTo(refOut.get("loss"), org.assertj.core.data.Offset.offset(1e-5f));
            assertThat(out.get("entropy_sum")).as(what)
                .isCloseTo(refOut.get("entropy_sum"), org.assertj.core.data.Offset.offset(1e-5f));
            worst = Math.max(worst, compare(ref, g.training().accumulatedGradients(), what));
          }
        }
      }
    }
    System.out.printf("chunked head: GRPO-like max relative L2 gradient error = %.3g%n", worst);
  }

  @Test
  void aTrainableSubsetWithoutTheHeadOrOnlyTheHeadMatches() {
    float[][] lm = lossMask(MASK);
    SftLoss.Inputs in = new SftLoss.Inputs(batch(), lm, 1f / total(lm));
    ModelWeights w = ModelWeights.random(config("qwen2", false), 27);
    for (List<String> subset : List.of(List.of("lm_head.weight"), List.of("model.norm.weight",
        "model.layers.0.self_attn.q_proj.bias"))) {
      Map<String, FloatTensor> ref;
      try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.training(1).withHead(PolicyGraph.Head.REFERENCE)
          .withTrainableParams(subset), List.of(new SftLoss()))) {
        g.training().accumulate(new SftLoss(), in);
        ref = g.training().accumulatedGradients();
      }
      try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.training(1).withHead(PolicyGraph.Head.chunked(5))
          .withTrainableParams(subset), List.of(new SftLoss()))) {
        g.training().accumulate(new SftLoss(), in);
        Map<String, FloatTensor> got = g.training().accumulatedGradients();
        assertThat(got.keySet()).containsExactlyElementsOf(subset);
        compare(ref, got, "subset " + subset);
      }
    }
  }

  @Test
  void defaultChunkKeepsOneChunkOfLogitsWithin128MiB() {
    int rows = ChunkedHead.rowsWithin(ChunkedHead.DEFAULT_CHUNK_BYTES, 151_936); // Qwen2.5's vocabulary
    assertThat(rows).isEqualTo(220);
    assertThat(4L * rows * 151_936).isLessThanOrEqualTo(128L << 20);
    assertThat(4L * (rows + 1) * 151_936).isGreaterThan(128L << 20);
    assertThat(ChunkedHead.rowsWithin(16, 151_936)).isEqualTo(1);
  }

  /** Asserts every gradient within GRAD_TOL of the reference (relative L2) and returns the largest error. */
  static double compare(Map<String, FloatTensor> ref, Map<String, FloatTensor> got, String what) {
    assertThat(got.keySet()).containsExactlyElementsOf(ref.keySet());
    double worst = 0;
    for (String name : ref.keySet()) {
      assertThat(PolicyGraphTest.maxAbs(ref.get(name))).as("reference gradient of " + name + " is zero, " + what)
          .isGreaterThan(0f);
      double e = PolicyGraphTest.relativeL2(ref.get(name), got.get(name));
      assertThat(e).as(name + ", " + what).isLessThanOrEqualTo(GRAD_TOL);
      worst = Math.max(worst, e);
    }
    return worst;
  }

  static double maxAbsDiff(float[][] a, float[][] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return m;
  }
}
