// Wrongly typed config values are refused naming the file and key instead of quietly becoming defaults; absent and
// null optional keys keep their defaults; tokenizer_config.json / generation_config.json fields are typed too.
package dev.rlsr.policy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(30)
class ModelConfigTypesTest {
  @TempDir Path tmp;

  /** config.json of the tiny qwen2 model with {@code key} set to the raw JSON {@code value} (null: removed). */
  private Path config(String key, String value) throws Exception {
    ObjectNode c = TinyCheckpoints.qwen2().toJson();
    if (value == null) {
      c.remove(key);
    } else {
      c.set(key, Json.MAPPER.readTree(value));
    }
    Path dir = Files.createDirectories(tmp.resolve("c-" + key + "-" + Integer.toHexString(String.valueOf(value).hashCode())));
    Path f = dir.resolve("config.json");
    Json.PRETTY.writeValue(f.toFile(), c);
    return f;
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "rms_norm_eps|\"x\"|\"rms_norm_eps\" must be a positive number, got \"x\"",
      "rms_norm_eps|\"1e-6\"|\"rms_norm_eps\" must be a positive number, got \"1e-6\"",
      "rms_norm_eps|-1e-6|\"rms_norm_eps\" must be a positive number, got -1.0E-6",
      "rope_theta|\"abc\"|\"rope_theta\" must be a positive number, got \"abc\"",
      "tie_word_embeddings|\"yes\"|\"tie_word_embeddings\" must be true or false, got \"yes\"",
      "tie_word_embeddings|1|\"tie_word_embeddings\" must be true or false, got 1",
      "hidden_size|64.5|\"hidden_size\" must be an integer, got 64.5",
      "hidden_size|32.0|\"hidden_size\" must be an integer, got 32.0",
      "hidden_size|0|\"hidden_size\" must be a positive integer, got 0",
      "hidden_size|99999999999|\"hidden_size\" must be an integer, got 99999999999 (out of range)",
      "num_hidden_layers|\"4\"|\"num_hidden_layers\" must be an integer, got \"4\"",
      "num_key_value_heads|2.5|\"num_key_value_heads\" must be an integer, got 2.5",
      "max_position_embeddings|\"2048\"|\"max_position_embeddings\" must be an integer, got \"2048\"",
      "bos_token_id|[1]|\"bos_token_id\" must be an integer, got [1]",
      "eos_token_id|\"x\"|\"eos_token_id\" must be an integer or a list of integers, got \"x\"",
      "eos_token_id|[1, \"x\"]|\"eos_token_id\"[1] must be an integer, got \"x\"",
      "model_type|7|\"model_type\" must be a string, got 7",
      "use_sliding_window|\"false\"|\"use_sliding_window\" must be true or false, got \"false\"",
      "vocab_size||missing key \"vocab_size\"",
  })
  void wronglyTypedValueIsRefusedNamingFileAndKey(String key, String value, String message) throws Exception {
    Path f = config(key, value);
    assertThatThrownBy(() -> ModelConfig.read(f))
        .isInstanceOf(RlsrException.class)
        .hasMessage(f + ": " + message)
        .hasNoCause();
  }

  @Test
  void absentOrNullOptionalKeysKeepTheirDefaults() throws Exception {
    ObjectNode c = TinyCheckpoints.qwen2().toJson();
    for (String k : new String[] {"rope_theta", "rms_norm_eps", "tie_word_embeddings", "max_position_embeddings",
        "bos_token_id", "eos_token_id", "use_sliding_window", "hidden_act"}) {
      c.remove(k);
    }
    c.putNull("rope_scaling");
    c.putNull("num_key_value_heads");
    c.putNull("head_dim");
    c.putNull("attention_bias");
    ModelConfig m = ModelConfig.fromJson(c, "config.json");
    assertThat(m.ropeTheta()).isEqualTo(10000.0);
    assertThat(m.rmsNormEps()).isEqualTo(1e-6);
    assertThat(m.tieWordEmbeddings()).isFalse();
    assertThat(m.maxPositions()).isEqualTo(2048);
    assertThat(m.bosTokenId()).isEqualTo(-1);
    assertThat(m.eosTokenIds()).isEmpty();
    assertThat(m.numKvHeads()).isEqualTo(m.numHeads());
    assertThat(m.headDim()).isEqualTo(m.hiddenSize() / m.numHeads());
    // integers where a number is expected are fine, and eos may be a list
    c.put("rope_theta", 1000000);
    c.putArray("eos_token_id").add(3).add(4);
    ModelConfig n = ModelConfig.fromJson(c, "config.json");
    assertThat(n.ropeTheta()).isEqualTo(1e6);
    assertThat(n.eosTokenIds()).containsExactly(3, 4);
  }

  @Test
  void duplicateKeyOrTrailingTextInConfigJsonIsRefused() throws Exception {
    Path f = config("hidden_size", "32");
    String text = Files.readString(f);
    Files.writeString(f, text.replaceFirst("\\{", "{\"hidden_size\": 64,"));
    assertThatThrownBy(() -> ModelConfig.read(f)).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + ": not valid JSON: Duplicate field 'hidden_size'");
    Files.writeString(f, text + "\n{}");
    assertThatThrownBy(() -> ModelConfig.read(f)).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + ": not valid JSON: Trailing token");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "tokenizer_config.json|add_bos_token|\"yes\"|\"add_bos_token\" must be true or false, got \"yes\"",
      "tokenizer_config.json|eos_token|5|\"eos_token\" must be a token string or {\"content\": \"...\"}, got number",
      "generation_config.json|eos_token_id|\"2\"|\"eos_token_id\" must be an integer or a list of integers, got \"2\"",
      "generation_config.json|eos_token_id|[2.5]|\"eos_token_id\"[0] must be an integer, got 2.5",
  })
  void tokenizerSideFilesAreTyped(String file, String key, String value, String message) throws Exception {
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    Path f = dir.resolve(file);
    ObjectNode n = Files.isRegularFile(f) ? (ObjectNode) Json.MAPPER.readTree(f.toFile()) : Json.MAPPER.createObjectNode();
    n.set(key, Json.MAPPER.readTree(value));
    Json.PRETTY.writeValue(f.toFile(), n);
    assertThatThrownBy(() -> Tokenizer.load(dir))
        .isInstanceOf(RlsrException.class)
        .hasMessage(f + ": " + message);
  }
}
