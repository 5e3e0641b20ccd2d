// Small tensor reads and writes of the optimizer classes (raw buffer copies, as in graph.Feeds).
package dev.rlsr.policy.optim;

import dev.rlsr.policy.model.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;

final class TfIo {
  private TfIo() {}

  static TFloat32 floats(FloatTensor w) {
    return TFloat32.tensorOf(Shape.of(w.shape()), x -> x.asRawTensor().data().asFloats().write(w.data()));
  }

  static float scalar(Tensor t) {
    float[] one = new float[1];
    t.asRawTensor().data().asFloats().read(one);
    return one[0];
  }

  /** Fetches every operand in one session call, keyed as given. */
  static LinkedHashMap<String, FloatTensor> fetchAll(Session session, Map<String, ? extends Operand<TFloat32>> ops) {
    var runner = session.runner();
    List<String> names = new ArrayList<>(ops.keySet());
    names.forEach(n -> runner.fetch(ops.get(n)));
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    try (Result r = runner.run()) {
      for (int i = 0; i < names.size(); i++) {
        FloatTensor t = FloatTensor.zeros(ops.get(names.get(i)).shape().asArray());
        r.get(i).asRawTensor().data().asFloats().read(t.data());
        out.put(names.get(i), t);
      }
    }
    return out;
  }

  static int[] toInts(long[] shape) {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.toIntExact(shape[i]);
    }
    return s;
  }
}
