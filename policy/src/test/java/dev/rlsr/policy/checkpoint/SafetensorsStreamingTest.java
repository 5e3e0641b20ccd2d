// The streaming side of safetensors: the lazy reader (SafetensorsSource) gives what the eager reader gives, for
// every dtype, single files and shards, through read and readInto; bf16/f16 convert bit-exactly (also across the
// converter's chunk boundary); the streaming writer writes the bytes the pre-streaming writer wrote.
package dev.rlsr.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.RandomWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsStreamingTest {
  @TempDir Path tmp;

  static Stream<Arguments> dirs() {
    return Stream.of(Safetensors.DType.values()).flatMap(dt -> Stream.of(Arguments.of(dt, false), Arguments.of(dt, true)));
  }

  private static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }

  @ParameterizedTest(name = "{0} sharded={1}")
  @MethodSource("dirs")
  void lazyReaderGivesWhatTheEagerReaderGives(Safetensors.DType dt, boolean sharded) {
    ModelConfig c = TinyCheckpoints.qwen2(false);
    Path dir = sharded ? TinyCheckpoints.writeSharded(tmp.resolve("m"), c, dt, 3)
        : TinyCheckpoints.write(tmp.resolve("m"), c, dt, 3);
    LinkedHashMap<String, FloatTensor> eager = Safetensors.readModelDir(dir);
    try (SafetensorsSource lazy = SafetensorsSource.openModelDir(dir)) {
      assertThat(lazy.shapes().keySet()).containsExactlyElementsOf(eager.keySet());
      for (var e : eager.entrySet()) {
        String name = e.getKey();
        assertThat(lazy.shapes().get(name)).as(name).containsExactly(e.getValue().shape());
        assertThat(lazy.dtype(name)).isEqualTo(dt);
        assertThat(bits(lazy.read(name).data())).as(name).isEqualTo(bits(e.getValue().data()));
        // readInto a direct buffer from a position other than 0 writes exactly numel values there
        int n = e.getValue().data().length;
        FloatBuffer direct = ByteBuffer.allocateDirect((n + 5) * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(new float[] {7f, 7f, 7f});
        lazy.readInto(name, direct);
        assertThat(direct.position()).isEqualTo(n + 3);
        float[] got = new float[n];
        direct.position(3);
        direct.get(got);
        assertThat(bits(got)).as(name).isEqualTo(bits(e.getValue().data()));
        assertThat(direct.get(0)).isEqualTo(7f);
      }
      assertThat(lazy.numel()).isEqualTo(eager.values().stream().mapToLong(t -> t.data().length).sum());
    }
  }

  @Test
  void halfPrecisionConvertsBitExactlyIncludingSpecialValues() throws Exception {
    short[] f16 = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x03FF, (short) 0x8000, 0x7C00, (short) 0xFC00, 0x3555};
    float[] f16Want = {1f, -2f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, -0f, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, 0.333251953125f};
    short[] bf16 = {0x3F80, (short) 0xC040, 0x7F80, 0x0001, (short) 0x8000, 0x4049};
    float[] bf16Want = {1f, -3f, Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x00010000), -0f, 3.140625f};
    Path f = rawFile("half.safetensors", Map.of("h", f16, "b", bf16), Map.of("h", "F16", "b", "BF16"));
    try (SafetensorsSource s = SafetensorsSource.open(f)) {
      assertThat(bits(s.read("h").data())).isEqualTo(bits(f16Want));
      assertThat(bits(s.read("b").data())).isEqualTo(bits(bf16Want));
    }
    Path nan = rawFile("nan.safetensors", Map.of("h", new short[] {0x7E00}, "b", new short[] {0x7FC1}),
        Map.of("h", "F16", "b", "BF16"));
    try (SafetensorsSource s = SafetensorsSource.open(nan)) {
      assertThat(s.read("h").data()[0]).isNaN();
      assertThat(Float.floatToRawIntBits(s.read("b").data()[0])).isEqualTo(0x7FC10000);
    }
  }

  @ParameterizedTest
  @EnumSource(Safetensors.DType.class)
  void tensorsLongerThanTheConversionChunkConvertWhole(Safetensors.DType dt) throws Exception {
    SplittableRandom rng = new SplittableRandom(9);
    float[] v = new float[(1 << 16) * 2 + 123]; // the bf16/f16 converter works in chunks of 65536
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    Path f = tmp.resolve("long.safetensors");
    Safetensors.write(f, Map.of("x", new FloatTensor(new long[] {v.length}, v)), dt, Map.of());
    try (SafetensorsSource s = SafetensorsSource.open(f)) {
      assertThat(bits(s.read("x").data())).isEqualTo(bits(Safetensors.read(f).get("x").data()));
    }
  }

  @ParameterizedTest
  @EnumSource(Safetensors.DType.class)
  void streamingWriterWritesTheBytesThePreStreamingWriterWrote(Safetensors.DType dt) throws Exception {
    LinkedHashMap<String, FloatTensor> t = new LinkedHashMap<>();
    SplittableRandom rng = new SplittableRandom(4);
    t.put("big", random(rng, 3, 100_001)); // crosses the old writer's 1 MB chunk
    t.put("empty", FloatTensor.zeros(0, 4));
    t.put("scalar", new FloatTensor(new long[] {}, new float[] {Float.NaN}));
    t.put("odd", random(rng, 7));
    t.put("specials", new FloatTensor(new long[] {4}, new float[] {Float.POSITIVE_INFINITY, -0f, 1e-40f, 70000f}));
    Map<String, String> md = new LinkedHashMap<>();
    md.put("format", "pt");
    md.put("rlsr.run_config", "{\"lr\":1e-5}");
    Path streamed = tmp.resolve("streamed.safetensors");
    Path legacy = tmp.resolve("legacy.safetensors");
    Safetensors.write(streamed, TensorSource.of(t), dt, md);
    legacyWrite(legacy, t, dt, md);
    assertThat(Files.readAllBytes(streamed)).isEqualTo(Files.readAllBytes(legacy));
    // and from a lazy source over the file itself: same bytes again
    Path again = tmp.resolve("again.safetensors");
    try (SafetensorsSource s = SafetensorsSource.open(streamed)) {
      assertThat(s.metadata()).isEqualTo(md);
      Safetensors.write(again, s, dt, md);
    }
    assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(legacy));
  }

  @Test
  void writerReadsEachTensorOnceThroughReadInto() throws Exception {
    ModelWeights w = ModelWeights.random(TinyCheckpoints.llama(), 2);
    List<String> readInto = new ArrayList<>();
    TensorSource counting = new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        return w.shapes();
      }

      @Override
      public FloatTensor read(String name) {
        throw new AssertionError("the writer must not ask for a whole tensor copy of " + name);
      }

      @Override
      public void readInto(String name, FloatBuffer dst) {
        readInto.add(name);
        dst.put(w.get(name).data());
      }
    };
    Path f = tmp.resolve("counted.safetensors");
    Safetensors.write(f, counting, Safetensors.DType.F32, Map.of());
    assertThat(readInto).containsExactlyElementsOf(w.tensors().keySet());
    assertThat(Safetensors.read(f).get("model.norm.weight").data()).isEqualTo(w.get("model.norm.weight").data());
  }

  @Test
  void lazyDirectoryRefusesWhatTheEagerOneRefuses() throws Exception {
    Path dir = TinyCheckpoints.writeSharded(tmp.resolve("s"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    Path index = dir.resolve(Safetensors.INDEX_FILE);
    ObjectNode idx = (ObjectNode) Json.MAPPER.readTree(index.toFile());
    String shard1 = idx.get("weight_map").elements().next().asText();
    ObjectNode extra = idx.deepCopy();
    ((ObjectNode) extra.get("weight_map")).put("model.layers.9.mlp.up_proj.weight", shard1);
    Json.MAPPER.writeValue(index.toFile(), extra);
    assertSameRefusal(dir);
    ObjectNode gone = idx.deepCopy();
    ((ObjectNode) gone.get("weight_map")).put("model.norm.weight", "model-00009-of-00009.safetensors");
    Json.MAPPER.writeValue(index.toFile(), gone);
    assertSameRefusal(dir);
    Json.MAPPER.writeValue(index.toFile(), idx);
    Path shard = dir.resolve(shard1);
    byte[] all = Files.readAllBytes(shard);
    Files.write(shard, java.util.Arrays.copyOf(all, all.length - 8));
    assertSameRefusal(dir);
    Files.delete(index);
    assertSameRefusal(dir);
  }

  private static void assertSameRefusal(Path dir) {
    String eager = catchMessage(() -> Safetensors.readModelDir(dir));
    String lazy = catchMessage(() -> SafetensorsSource.openModelDir(dir).close());
    assertThat(lazy).isNotNull().isEqualTo(eager);
  }

  private static String catchMessage(Runnable r) {
    try {
      r.run();
      return null;
    } catch (RlsrException e) {
      return e.getMessage();
    }
  }

  @Test
  void unknownNamesAndClosedSourcesAreRefused() {
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.BF16, 1);
    SafetensorsSource s = SafetensorsSource.openModelDir(dir);
    assertThatThrownBy(() -> s.read("nope")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
    FloatBuffer small = FloatBuffer.allocate(3);
    assertThatThrownBy(() -> s.readInto("model.norm.weight", small)).isInstanceOf(IllegalArgumentException.class);
    s.close();
    assertThatThrownBy(() -> s.read("model.norm.weight")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void hfModelChecksTheLayoutUpFrontAndReadsLazily() throws Exception {
    ModelConfig c = TinyCheckpoints.qwen2();
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), c, Safetensors.DType.BF16, 5);
    try (HfModel m = HfModel.load(dir)) {
      assertThat(m.tensors().shapes().keySet()).containsExactlyElementsOf(ModelWeights.layout(c).keySet());
      ModelWeights eager = ModelWeights.fromLoaded(c, Safetensors.readModelDir(dir), dir.toString());
      for (String name : eager.tensors().keySet()) {
        assertThat(bits(m.tensors().read(name).data())).isEqualTo(bits(eager.get(name).data()));
      }
      assertThat(m.weights()).isSameAs(m.weights()); // materialised once, on demand
    }
    // a tensor missing from the file is refused at load with the message ModelWeights.fromLoaded gives
    LinkedHashMap<String, FloatTensor> t = Safetensors.readModelDir(dir);
    t.remove("model.layers.1.mlp.up_proj.weight");
    Safetensors.write(dir.resolve(Safetensors.SINGLE_FILE), t, Safetensors.DType.BF16, Map.of());
    String eagerMessage = catchMessage(() -> ModelWeights.fromLoaded(c, Safetensors.readModelDir(dir),
        dir.resolve(Safetensors.SINGLE_FILE).toString()));
    assertThatThrownBy(() -> HfModel.load(dir)).isInstanceOf(RlsrException.class).hasMessage(eagerMessage)
        .hasMessageContaining("missing tensor \"model.layers.1.mlp.up_proj.weight\"");
  }

  @Test
  void randomWeightsGiveTheSameValuesInAnyReadOrder() {
    ModelConfig c = TinyCheckpoints.qwen2(false);
    ModelWeights inOrder = ModelWeights.random(c, 8);
    RandomWeights lazy = new RandomWeights(c, 8);
    List<String> names = new ArrayList<>(inOrder.tensors().keySet());
    java.util.Collections.reverse(names);
    for (String name : names) {
      assertThat(bits(lazy.read(name).data())).as(name).isEqualTo(bits(inOrder.get(name).data()));
    }
    assertThat(bits(lazy.read(names.get(0)).data())).isEqualTo(bits(inOrder.get(names.get(0)).data()));
    assertThat(inOrder.get("model.norm.weight").data()).containsOnly(1f);
    assertThat(bits(ModelWeights.random(c, 9).get("model.embed_tokens.weight").data()))
        .isNotEqualTo(bits(inOrder.get("model.embed_tokens.weight").data()));
  }

  private static FloatTensor random(SplittableRandom rng, long... shape) {
    FloatTensor t = FloatTensor.zeros(shape);
    for (int i = 0; i < t.data().length; i++) {
      t.data()[i] = (float) (rng.nextGaussian() * 3);
    }
    return t;
  }

  /** A file of raw 16-bit tensors (one dimension each) in the given dtypes, written by hand. */
  private Path rawFile(String name, Map<String, short[]> tensors, Map<String, String> dtypes) throws IOException {
    StringBuilder h = new StringBuilder("{");
    long off = 0;
    List<String> order = new ArrayList<>(new java.util.TreeSet<>(tensors.keySet()));
    for (String n : order) {
      long len = tensors.get(n).length * 2L;
      if (h.length() > 1) {
        h.append(',');
      }
      h.append('"').append(n).append("\":{\"dtype\":\"").append(dtypes.get(n)).append("\",\"shape\":[")
          .append(tensors.get(n).length).append("],\"data_offsets\":[").append(off).append(',').append(off + len)
          .append("]}");
      off += len;
    }
    h.append('}');
    byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate((int) (8 + hb.length + off)).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(hb.length).put(hb);
    for (String n : order) {
      for (short s : tensors.get(n)) {
        b.putShort(s);
      }
    }
    Path f = tmp.resolve(name);
    Files.write(f, b.array());
    return f;
  }

  /** The writer as it was before streaming (commit 3e5ded0), kept verbatim as the reference for the file format. */
  private static void legacyWrite(Path file, Map<String, FloatTensor> tensors, Safetensors.DType dtype,
      Map<String, String> metadata) throws IOException {
    ObjectNode header = Json.MAPPER.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode md = header.putObject("__metadata__");
      metadata.forEach(md::put);
    }
    long offset = 0;
    for (var e : tensors.entrySet()) {
      ObjectNode info = header.putObject(e.getKey());
      info.put("dtype", dtype.name());
      var sh = info.putArray("shape");
      for (long d : e.getValue().shape()) {
        sh.add(d);
      }
      long len = (long) e.getValue().data().length * dtype.bytes;
      info.putArray("data_offsets").add(offset).add(offset + len);
      offset += len;
    }
    byte[] hdr = Json.MAPPER.writeValueAsBytes(header);
    int pad = (8 - (hdr.length % 8)) % 8;
    byte[] padded = new byte[hdr.length + pad];
    System.arraycopy(hdr, 0, padded, 0, hdr.length);
    for (int i = hdr.length; i < padded.length; i++) {
      padded[i] = ' ';
    }
    try (OutputStream os = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length);
      os.write(len.array());
      os.write(padded);
      ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      for (FloatTensor t : tensors.values()) {
        for (float v : t.data()) {
          if (chunk.remaining() < 4) {
            os.write(chunk.array(), 0, chunk.position());
            chunk.clear();
          }
          switch (dtype) {
            case F32 -> chunk.putFloat(v);
            case BF16 -> chunk.putShort(Safetensors.toBf16(v));
            case F16 -> chunk.putShort(Safetensors.floatToHalf(v));
          }
        }
      }
      os.write(chunk.array(), 0, chunk.position());
    }
  }
}
