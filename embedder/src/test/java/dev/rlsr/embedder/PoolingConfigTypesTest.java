// 1_Pooling/config.json: a pooling_mode_* value that is not true/false is refused naming the file and key
// (it used to count as false, so "yes" silently fell through to another mode or to the "exactly one" error).
package dev.rlsr.embedder;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoolingConfigTypesTest {
  @TempDir Path tmp;

  @Test
  void nonBooleanPoolingModeIsRefused() throws Exception {
    Files.write(tmp.resolve("model.onnx"), new byte[] {0});
    Files.writeString(tmp.resolve("tokenizer.json"), "{}");
    Path pooling = Files.createDirectories(tmp.resolve("1_Pooling")).resolve("config.json");
    Files.writeString(pooling, "{\"pooling_mode_cls_token\": \"yes\", \"pooling_mode_mean_tokens\": false}");
    assertThatThrownBy(() -> EncoderSource.resolve(tmp.toString()))
        .isInstanceOf(EmbedderException.class)
        .hasMessage(pooling + ": \"pooling_mode_cls_token\" must be true or false, got \"yes\"");
  }
}
