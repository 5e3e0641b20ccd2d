// Round trips of tiny HF checkpoints through safetensors (all dtypes, both model types, sharded) and the errors
// for damaged files, mismatched tensors and unsupported config.json keys.
package dev.rlsr.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsRoundTripTest {
  @TempDir Path tmp;

  static Stream<Arguments> variants() {
    return Stream.of(Safetensors.DType.values()).flatMap(dt -> Stream.of(
        Arguments.of("llama", false, dt), Arguments.of("llama", true, dt),
        Arguments.of("qwen2", false, dt), Arguments.of("qwen2", true, dt)));
  }

  private static ModelConfig config(String type, boolean tied) {
    return type.equals("llama") ? TinyCheckpoints.llama(tied) : TinyCheckpoints.qwen2(tied);
  }

  /** What a value becomes after being stored in dtype and read back. */
  private static float stored(float v, Safetensors.DType dt) {
    return switch (dt) {
      case F32 -> v;
      case BF16 -> Float.intBitsToFloat((Safetensors.toBf16(v) & 0xffff) << 16);
      case F16 -> Safetensors.halfToFloat(Safetensors.floatToHalf(v));
    };
  }

  private static void assertStoredExactly(ModelWeights expected, ModelWeights actual, Safetensors.DType dt) {
    assertThat(actual.tensors().keySet()).containsExactlyElementsOf(expected.tensors().keySet());
    for (var e : expected.tensors().entrySet()) {
      FloatTensor got = actual.get(e.getKey());
      assertThat(got.shape()).as(e.getKey()).containsExactly(e.getValue().shape());
      float[] want = e.getValue().data();
      int[] wantBits = new int[want.length];
      int[] gotBits = new int[want.length];
      for (int i = 0; i < want.length; i++) {
        wantBits[i] = Float.floatToRawIntBits(stored(want[i], dt));
        gotBits[i] = Float.floatToRawIntBits(got.data()[i]);
      }
      assertThat(gotBits).as(e.getKey()).isEqualTo(wantBits);
    }
  }

  private static ModelWeights load(Path dir) {
    ModelConfig c = ModelConfig.read(dir.resolve("config.json"));
    return ModelWeights.fromLoaded(c, Safetensors.readModelDir(dir), dir.toString());
  }

  @ParameterizedTest(name = "{0} tied={1} {2}")
  @MethodSource("variants")
  void roundTripIsExactAfterDtypeRounding(String type, boolean tied, Safetensors.DType dt) throws Exception {
    ModelConfig c = config(type, tied);
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), c, dt, 7);
    ModelWeights loaded = load(dir);
    assertStoredExactly(ModelWeights.random(c, 7), loaded, dt);
    assertThat(loaded.config().modelType()).isEqualTo(type);
    assertThat(loaded.config().tieWordEmbeddings()).isEqualTo(tied);
    assertThat(loaded.tensors().containsKey("lm_head.weight")).isEqualTo(!tied);
    assertThat(loaded.tensors().containsKey("model.layers.0.self_attn.q_proj.bias")).isEqualTo(type.equals("qwen2"));
    // GQA: 4 query heads, 2 kv heads of width 8
    assertThat(loaded.get("model.layers.1.self_attn.q_proj.weight").shape()).containsExactly(32, 32);
    assertThat(loaded.get("model.layers.1.self_attn.k_proj.weight").shape()).containsExactly(16, 32);
    assertThat(loaded.get("model.layers.1.self_attn.v_proj.weight").shape()).containsExactly(16, 32);
    assertThat(Json.MAPPER.readTree(dir.resolve("config.json").toFile()).get("torch_dtype").asText())
        .isEqualTo(TinyCheckpoints.torchDtype(dt));
  }

  @Test
  void reducedPrecisionActuallyRounds() throws Exception {
    // guards the test above against comparing a rounded value with itself in a trivial way
    ModelConfig c = TinyCheckpoints.llama();
    ModelWeights w = ModelWeights.random(c, 3);
    ModelWeights bf = load(TinyCheckpoints.write(tmp.resolve("bf"), c, Safetensors.DType.BF16, 3));
    float[] orig = w.get("model.embed_tokens.weight").data();
    float[] back = bf.get("model.embed_tokens.weight").data();
    assertThat(Arrays.equals(orig, back)).isFalse();
    for (int i = 0; i < orig.length; i++) {
      assertThat(Math.abs(back[i] - orig[i])).isLessThanOrEqualTo(Math.abs(orig[i]) / 256f);
    }
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void shardedDirectoryReadsLikeASingleFile(Safetensors.DType dt) {
    ModelConfig c = TinyCheckpoints.qwen2(false);
    Path dir = TinyCheckpoints.writeSharded(tmp.resolve("s"), c, dt, 11);
    assertThat(dir.resolve(Safetensors.SINGLE_FILE)).doesNotExist();
    assertThat(dir.resolve("model-00002-of-00002.safetensors")).exists();
    assertStoredExactly(ModelWeights.random(c, 11), load(dir), dt);
  }

  static Stream<Safetensors.DType> dtypes() {
    return Stream.of(Safetensors.DType.values());
  }

  @Test
  void shardMissingFromIndexIsNamed() throws Exception {
    Path dir = TinyCheckpoints.writeSharded(tmp.resolve("s"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
    assertThatThrownBy(() -> Safetensors.readModelDir(dir))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining("model-00002-of-00002.safetensors")
        .hasMessageContaining(Safetensors.INDEX_FILE);
  }

  @Test
  void truncatedFileIsNamed() throws Exception {
    Path dir = TinyCheckpoints.write(tmp.resolve("t"), TinyCheckpoints.llama(), Safetensors.DType.BF16, 1);
    Path f = dir.resolve(Safetensors.SINGLE_FILE);
    byte[] all = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(all, all.length - 100));
    assertThatThrownBy(() -> Safetensors.read(f))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("truncated");
    Files.write(f, Arrays.copyOf(all, 5));
    assertThatThrownBy(() -> Safetensors.read(f)).isInstanceOf(RlsrException.class).hasMessageContaining(f.toString());
    Files.write(f, Arrays.copyOf(all, 200)); // header cut in the middle
    assertThatThrownBy(() -> Safetensors.read(f)).isInstanceOf(RlsrException.class).hasMessageContaining(f.toString());
  }

  @Test
  void wrongShapeOrMissingTensorIsNamed() {
    ModelConfig c = TinyCheckpoints.llama();
    Path dir = TinyCheckpoints.write(tmp.resolve("w"), c, Safetensors.DType.F32, 1);
    LinkedHashMap<String, FloatTensor> t = Safetensors.readModelDir(dir);
    String key = "model.layers.1.self_attn.k_proj.weight";
    t.put(key, FloatTensor.zeros(32, 32)); // as if num_key_value_heads were 4
    assertThatThrownBy(() -> ModelWeights.fromLoaded(c, t, dir.toString()))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining(key)
        .hasMessageContaining("[16, 32]");
    t.remove(key);
    assertThatThrownBy(() -> ModelWeights.fromLoaded(c, t, dir.toString()))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining("missing tensor \"" + key + "\"");
  }

  @Test
  void unsupportedConfigKeysAreNamed() throws Exception {
    checkRefused(c -> c.put("model_type", "gemma"), "model_type");
    checkRefused(c -> c.putObject("rope_scaling").put("type", "linear"), "rope_scaling");
    checkRefused(c -> c.put("use_sliding_window", true), "use_sliding_window");
    checkRefused(c -> c.remove("hidden_size"), "hidden_size");
  }

  private void checkRefused(Consumer<ObjectNode> edit, String key) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("cfg-" + key));
    ObjectNode c = TinyCheckpoints.qwen2().toJson();
    edit.accept(c);
    Path file = dir.resolve("config.json");
    Json.PRETTY.writeValue(file.toFile(), c);
    assertThatThrownBy(() -> ModelConfig.read(file))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining(key);
  }
}
