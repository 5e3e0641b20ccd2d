// TfStreams writes a source straight into TensorFlow's memory (the NIO view of a tensor exists, so no staging copy
// is made), its staged fallback fills a tensor with the same values, and tensors move in ordered groups of at most
// GROUP_BYTES (a larger tensor alone).
package dev.rlsr.policy.optim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.TensorSource;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;

class TfStreamsTest {
  @Test
  void aTensorIsFilledInPlaceAndTheStagedFallbackAgrees() {
    SplittableRandom rng = new SplittableRandom(3);
    FloatTensor t = FloatTensor.zeros(3, 1000, 7);
    for (int i = 0; i < t.data().length; i++) {
      t.data()[i] = (float) rng.nextGaussian();
    }
    TensorSource src = TensorSource.of(Map.of("x", t));
    try (TFloat32 direct = TfStreams.tensorOf(src, "x", t.shape());
        TFloat32 staged = TFloat32.tensorOf(Shape.of(t.shape()))) {
      FloatBuffer view = TfStreams.view(direct);
      assertThat(view).as("TensorFlow's memory is reachable as a NIO buffer").isNotNull();
      assertThat(view.isDirect()).isTrue();
      assertThat(view.capacity()).isEqualTo(t.data().length);
      float[] got = new float[t.data().length];
      direct.asRawTensor().data().asFloats().read(got);
      assertThat(got).isEqualTo(t.data());

      TfStreams.copyStaged(src, "x", t.data().length, staged.asRawTensor().data().asFloats());
      float[] viaStage = new float[t.data().length];
      staged.asRawTensor().data().asFloats().read(viaStage);
      assertThat(viaStage).isEqualTo(t.data());

      // the view writes through: what is put there is what TensorFlow reads
      view.put(5, 42f);
      assertThat(direct.getFloat(0, 0, 5)).isEqualTo(42f);
    }
  }

  @Test
  void groupsKeepTheOrderAndTheByteBudget() {
    long quarter = TfStreams.GROUP_BYTES / 4 / Float.BYTES; // floats in a quarter of the budget
    LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("a", new long[] {quarter});
    shapes.put("b", new long[] {2, quarter});
    shapes.put("c", new long[] {quarter});      // a + b + c fill the budget exactly
    shapes.put("big", new long[] {5, quarter}); // over the budget: alone
    shapes.put("d", new long[] {3});
    shapes.put("e", new long[] {0, 7});
    assertThat(TfStreams.groups(shapes)).containsExactly(List.of("a", "b", "c"), List.of("big"), List.of("d", "e"));
    assertThat(TfStreams.groups(new LinkedHashMap<>())).isEmpty();
  }
}
