// AdamW against torch.optim.AdamW written out in double precision: bias-corrected moments, eps added to sqrt(v-hat),
// decoupled weight decay (p *= 1 - lr * wd before the update) only on decaying parameters, and the global-norm clip
// of torch.nn.utils.clip_grad_norm_ (coefficient min(1, max_norm / (norm + 1e-6))), over steps with and without them.
package dev.rlsr.policy.optim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.model.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

class AdamWTest {
  /** Per step: learning rate, weight decay, max grad norm (0: no clipping). */
  record Step(double lr, double wd, double maxNorm) {}

  /** torch.optim.AdamW state of one parameter, in double. */
  static final class TorchAdamW {
    final double[] p;
    final double[] m;
    final double[] v;

    TorchAdamW(float[] init) {
      p = new double[init.length];
      for (int i = 0; i < init.length; i++) {
        p[i] = init[i];
      }
      m = new double[init.length];
      v = new double[init.length];
    }

    void step(double[] g, long t, double lr, double wd, boolean decays, AdamW.Hyper h) {
      double b1 = h.beta1();
      double b2 = h.beta2();
      double bc1 = 1 - Math.pow(b1, t);
      double bc2 = 1 - Math.pow(b2, t);
      for (int i = 0; i < p.length; i++) {
        if (decays) {
          p[i] *= 1 - lr * wd; // torch: param.mul_(1 - lr * weight_decay) first
        }
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + h.epsilon();
        p[i] -= lr / bc1 * m[i] / denom;
      }
    }
  }

  /** Two parameters ("w" decays, "norm" does not); loss = sum(c1 * w^3 / 3) + sum(c2 * norm), c1 and c2 new each step. */
  @Test
  void stepsMatchTorchAdamW() {
    AdamW.Hyper hyper = new AdamW.Hyper(0.9f, 0.95f, 1e-6f); // a larger eps and smaller beta2 so both show
    SplittableRandom rng = new SplittableRandom(9);
    Map<String, float[]> init = new LinkedHashMap<>();
    init.put("w", randoms(rng, 24, 1.0));
    init.put("norm", randoms(rng, 7, 1.0));
    List<Step> steps = List.of(new Step(1e-2, 0.1, 0.0), new Step(5e-3, 0.1, 0.5), new Step(1e-2, 0.0, 100.0),
        new Step(2e-2, 0.3, 0.05), new Step(1e-3, 0.0, 0.0));
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      List<Parameter> params = new ArrayList<>();
      Map<String, Placeholder<TFloat32>> loads = new LinkedHashMap<>();
      List<Op> loadOps = new ArrayList<>();
      Map<String, Placeholder<TFloat32>> coef = new LinkedHashMap<>();
      Operand<TFloat32> loss = null;
      for (var e : init.entrySet()) {
        Shape shape = Shape.of(e.getValue().length);
        Variable<TFloat32> var = tf.withName(e.getKey()).variable(shape, TFloat32.class);
        Operand<TFloat32> read = tf.identity(var);
        params.add(new Parameter(e.getKey(), var, read));
        Placeholder<TFloat32> load = tf.placeholder(TFloat32.class, Placeholder.shape(shape));
        loads.put(e.getKey(), load);
        loadOps.add(tf.assign(var, load));
        Placeholder<TFloat32> c = tf.placeholder(TFloat32.class, Placeholder.shape(shape));
        coef.put(e.getKey(), c);
        // d/dp (c p^3 / 3) = c p^2: a gradient that changes with p from step to step
        Operand<TFloat32> term = e.getKey().equals("w")
            ? tf.math.div(tf.math.mul(c, tf.math.mul(read, tf.math.mul(read, read))), tf.constant(3f))
            : tf.math.mul(c, read);
        Operand<TFloat32> s = tf.reduceSum(term, tf.constant(0));
        loss = loss == null ? s : tf.math.add(loss, s);
      }
      Session[] session = new Session[1];
      AdamW.Builder builder = new AdamW.Builder(tf, graph, params, hyper, n -> n.equals("w"));
      Op accumulate = builder.accumulate("test", loss);
      AdamW opt = builder.build(() -> session[0]);
      try (Session s = new Session(graph)) {
        session[0] = s;
        List<Tensor> open = new ArrayList<>();
        var runner = s.runner();
        for (var e : init.entrySet()) {
          Tensor t = TfIo.floats(new FloatTensor(new long[] {e.getValue().length}, e.getValue()));
          open.add(t);
          runner.feed(loads.get(e.getKey()), t);
        }
        loadOps.forEach(runner::addTarget);
        runner.run().close();
        open.forEach(Tensor::close);
        opt.reset();

        Map<String, TorchAdamW> torch = new LinkedHashMap<>();
        init.forEach((k, v) -> torch.put(k, new TorchAdamW(v)));
        double worst = 0;
        long t = 0;
        for (Step step : steps) {
          // gradient at the current weights, from the graph (the reference starts from the same numbers)
          List<Tensor> feeds = new ArrayList<>();
          var acc = s.runner();
          for (var e : coef.entrySet()) {
            // "norm" gets gradients near eps, where eps' = eps * sqrt(1 - beta2^t) against eps shows
            Tensor c = TfIo.floats(new FloatTensor(new long[] {init.get(e.getKey()).length},
                randoms(rng, init.get(e.getKey()).length, e.getKey().equals("w") ? 2.0 : 2e-6)));
            feeds.add(c);
            acc.feed(e.getValue(), c);
          }
          acc.addTarget(accumulate).run().close();
          feeds.forEach(Tensor::close);
          opt.markAccumulated();
          Map<String, FloatTensor> grads = opt.accumulatedGradients();
          double sq = 0;
          for (FloatTensor g : grads.values()) {
            for (float x : g.data()) {
              sq += (double) x * x;
            }
          }
          double norm = Math.sqrt(sq);
          double clip = step.maxNorm() > 0 ? Math.min(1.0, step.maxNorm() / (norm + 1e-6)) : 1.0;
          AdamW.StepResult r = opt.applyGradients(step.lr(), step.wd(), step.maxNorm());
          assertThat(r.applied()).isTrue();
          assertThat((double) r.gradNorm()).isCloseTo(norm, org.assertj.core.data.Offset.offset(1e-5 * norm));
          t++;
          for (var e : torch.entrySet()) {
            float[] g = grads.get(e.getKey()).data();
            double[] gd = new double[g.length];
            for (int i = 0; i < g.length; i++) {
              gd[i] = g[i] * clip;
            }
            e.getValue().step(gd, t, step.lr(), step.wd(), e.getKey().equals("w"), hyper);
          }
          Map<String, FloatTensor> now = TfIo.fetchAll(s, Map.of("w", params.get(0).read(), "norm",
              params.get(1).read()));
          for (var e : torch.entrySet()) {
            double[] want = e.getValue().p;
            float[] got = now.get(e.getKey()).data();
            float[] before = init.get(e.getKey());
            for (int i = 0; i < want.length; i++) {
              // the updates so far to 0.1%, plus float32 rounding of p itself
              double tol = 1e-3 * Math.abs(want[i] - before[i]) + 1e-6 * Math.max(1, Math.abs(want[i]));
              assertThat(Math.abs(got[i] - want[i])).as(e.getKey() + "[" + i + "] after step " + t)
                  .isLessThanOrEqualTo(tol);
              worst = Math.max(worst, Math.abs(got[i] - want[i]));
            }
          }
        }
        assertThat(opt.step()).isEqualTo(steps.size());
        System.out.printf("AdamW vs torch reference: max |p - p_torch| = %.3g%n", worst);
      }
    }
  }

  static float[] randoms(SplittableRandom rng, int n, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (rng.nextGaussian() * scale);
    }
    return a;
  }
}
