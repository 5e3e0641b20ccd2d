// --device names: parsed in any case, refused in one message shape, written as "cpu"/"cuda" in run configs.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class DeviceTest {
  @Test
  void namesParseInAnyCaseAndPrintLowerCase() {
    assertThat(Device.parse("cpu")).isSameAs(Device.CPU);
    assertThat(Device.parse("CUDA")).isSameAs(Device.CUDA);
    assertThat(Device.parse(Device.DEFAULT)).isSameAs(Device.CPU);
    assertThat(Device.CUDA.flag()).isEqualTo("cuda");
    assertThat(Device.CPU).hasToString("cpu");
    assertThat(Json.SNAKE.valueToTree(Map.of("device", Device.CUDA)).get("device").asText()).isEqualTo("cuda");
  }

  @Test
  void anUnknownNameIsRefusedNamingTheChoices() {
    assertThatThrownBy(() -> Device.parse("tpu")).isInstanceOf(RlsrException.class)
        .hasMessage("--device \"tpu\" is not known: use cpu or cuda");
  }

  @Test
  void cpuIsAlwaysAvailableAndCudaOnlyWithItsProvider() {
    assertThat(Device.CPU.requireAvailable()).isSameAs(Device.CPU);
    Assumptions.assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "CUDA present");
    assertThatThrownBy(Device.CUDA::requireAvailable).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith("--device cuda: CUDA is not available in this ONNX Runtime")
        .hasMessageContaining("Use --device cpu, or build with -Pgpu");
  }
}
