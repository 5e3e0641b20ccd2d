// Parsing of a flag that takes one of a few names (--device, --logits, --format): the names are the enum constants'
// in lower case with hyphens for underscores (ONNX_ADAPTER: onnx-adapter), and anything else is refused with one message shape naming the flag and the choices.
package dev.rlsr.policy.util;

import java.util.Locale;

public final class FlagChoices {
  private FlagChoices() {}

  /**
   * The constant of {@code choices} whose {@link #name} is {@code value} (any case); otherwise an
   * {@link RlsrException} "{@code --flag "value" is not known: use a, b or c}".
   */
  @SafeVarargs
  public static <E extends Enum<E>> E parse(String flag, String value, E... choices) {
    for (E e : choices) {
      if (name(e).equals(value.toLowerCase(Locale.ROOT))) {
        return e;
      }
    }
    StringBuilder names = new StringBuilder();
    for (int i = 0; i < choices.length; i++) {
      names.append(i == 0 ? "" : i == choices.length - 1 ? " or " : ", ").append(name(choices[i]));
    }
    throw new RlsrException(flag + " \"" + value + "\" is not known: use " + names);
  }

  /** The name of {@code e} on the command line: its constant name in lower case, underscores as hyphens. */
  public static String name(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
