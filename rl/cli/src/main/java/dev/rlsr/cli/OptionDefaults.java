// A command's default-value provider for the options of shared mixins whose defaults differ per command (the
// optimizer flags of sft, pretrain and train): option name -> default string, taken from the command's options record.
package dev.rlsr.cli;

import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

class OptionDefaults implements IDefaultValueProvider {
  private final Map<String, String> byName;

  /** @param byName default values by the option's longest name (e.g. "--learning-rate"), one map per mixin */
  @SafeVarargs
  OptionDefaults(Map<String, String>... byName) {
    Map<String, String> all = new java.util.HashMap<>();
    for (Map<String, String> m : byName) {
      all.putAll(m);
    }
    this.byName = Map.copyOf(all);
  }

  @Override
  public String defaultValue(ArgSpec arg) throws Exception {
    return arg instanceof OptionSpec o ? byName.get(o.longestName()) : null;
  }
}
