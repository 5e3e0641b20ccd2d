// Name-valued flags: lower-case constant names, any case accepted, one refusal shape listing the choices in order.
package dev.rlsr.policy.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FlagChoicesTest {
  enum Format { ONNX, SAFETENSORS, BOTH }

  enum Export { ONNX, ONNX_ADAPTER }

  @Test
  void parsesLowerCaseNamesInAnyCase() {
    assertThat(FlagChoices.parse("--format", "safetensors", Format.values())).isSameAs(Format.SAFETENSORS);
    assertThat(FlagChoices.parse("--format", "Both", Format.values())).isSameAs(Format.BOTH);
    assertThat(FlagChoices.name(Format.ONNX)).isEqualTo("onnx");
    // underscores read as hyphens, as command-line names are spelled
    assertThat(FlagChoices.name(Export.ONNX_ADAPTER)).isEqualTo("onnx-adapter");
    assertThat(FlagChoices.parse("--format", "ONNX-Adapter", Export.values())).isSameAs(Export.ONNX_ADAPTER);
  }

  @Test
  void refusesOtherNamesListingTheChoicesInTheOrderGiven() {
    assertThatThrownBy(() -> FlagChoices.parse("--format", "zip", Format.values())).isInstanceOf(RlsrException.class)
        .hasMessage("--format \"zip\" is not known: use onnx, safetensors or both");
    assertThatThrownBy(() -> FlagChoices.parse("--format", "zip", Format.BOTH, Format.ONNX))
        .hasMessage("--format \"zip\" is not known: use both or onnx");
  }
}
