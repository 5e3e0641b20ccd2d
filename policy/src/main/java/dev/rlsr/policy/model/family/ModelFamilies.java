// The registry of supported model families, by model_type.
package dev.rlsr.policy.model.family;

import dev.rlsr.policy.util.RlsrException;
import java.util.List;

public final class ModelFamilies {
  /** Every supported family; {@link #supportedTypes()} lists them in this order. */
  private static final List<ModelFamily> FAMILIES = List.of(new LlamaFamily(), new Qwen2Family(), new Qwen3Family(), new MistralFamily());

  private ModelFamilies() {}

  /** The supported {@code model_type}s: llama, qwen2, qwen3, mistral. */
  public static List<String> supportedTypes() {
    return FAMILIES.stream().map(ModelFamily::modelType).toList();
  }

  /**
   * The family of {@code modelType}; refuses another type with
   * {@code "<source>: model_type \"x\" is not supported (supported: llama, qwen2, qwen3, mistral)"}.
   */
  public static ModelFamily forType(String modelType, String source) {
    for (ModelFamily f : FAMILIES) {
      if (f.modelType().equals(modelType)) {
        return f;
      }
    }
    throw new RlsrException(source + ": model_type \"" + modelType + "\" is not supported (supported: "
        + String.join(", ", supportedTypes()) + ")");
  }
}
