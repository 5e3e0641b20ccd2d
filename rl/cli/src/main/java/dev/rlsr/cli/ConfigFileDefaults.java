// rlsr train --config FILE through picocli's default-value provider: an option not given on the command line takes
// its value from the file, then the command's own defaults. The file is read once, strictly, and every key is checked
// before any is used; refusals name the file and the key.
package dev.rlsr.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

class ConfigFileDefaults extends OptionDefaults {
  /** The option naming the file. */
  static final String CONFIG = "--config";

  private Path loaded;
  private Map<String, String> values; // by the option's longest name

  /** @param byName the command's defaults of mixin options, used for what the file does not set */
  ConfigFileDefaults(Map<String, String> byName) {
    super(byName);
  }

  @Override
  public String defaultValue(ArgSpec arg) throws Exception {
    if (arg instanceof OptionSpec o && arg.command() != null) {
      OptionSpec config = arg.command().findOption(CONFIG);
      Path file = config == null ? null : config.getValue();
      if (file != null && !o.longestName().equals(CONFIG)) {
        String v = load(file, arg.command()).get(o.longestName());
        if (v != null) {
          return v;
        }
      }
    }
    return super.defaultValue(arg);
  }

  /**
   * The file's values by option, read and checked on the first call: a key that is no option of {@code command}
   * (or is --config), a key given twice (also as {@code num_generations} and {@code num-generations}, or as an
   * option's other name), a list, mapping or null value, or anything after the document is refused.
   */
  Map<String, String> load(Path file, CommandSpec command) {
    if (file.equals(loaded)) {
      return values;
    }
    JsonNode node = read(file);
    Map<String, String> byOption = new HashMap<>();
    Map<String, String> keyOf = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      var e = it.next();
      String flag = "--" + e.getKey().replace('_', '-');
      OptionSpec opt = command.findOption(flag);
      if (opt == null || flag.equals(CONFIG) || opt.usageHelp() || opt.versionHelp()) {
        throw new RlsrException(file + ": unknown option \"" + e.getKey() + "\" (see rlsr " + command.name()
            + " --help)");
      }
      String before = keyOf.put(opt.longestName(), e.getKey());
      if (before != null) {
        throw new RlsrException(file + ": option \"" + e.getKey() + "\" is given twice (also as \"" + before + "\")");
      }
      JsonNode v = e.getValue();
      if (!v.isValueNode() || v.isNull()) {
        throw new RlsrException(file + ": option \"" + e.getKey() + "\" must be a single value (a string, number"
            + " or boolean), got " + StrictJson.kind(v));
      }
      byOption.put(opt.longestName(), v.asText());
    }
    loaded = file;
    values = Map.copyOf(byOption);
    return values;
  }

  private static JsonNode read(Path file) {
    boolean json = file.toString().endsWith(".json");
    JsonNode node;
    try {
      byte[] bytes = Files.readAllBytes(file);
      node = json ? StrictJson.JSON.readTree(bytes) : StrictJson.YAML.readTree(bytes);
    } catch (JsonProcessingException e) {
      Matcher dup = Pattern.compile("^Duplicate field '(.*?)'")
          .matcher(e.getOriginalMessage() == null ? "" : e.getOriginalMessage());
      if (dup.find()) {
        throw new RlsrException(file + ": option \"" + dup.group(1) + "\" is given twice");
      }
      throw new RlsrException(file + ": not valid " + (json ? "JSON" : "YAML") + ": " + StrictJson.describe(e));
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read the config file: " + e.getMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new RlsrException(file + ": expected a mapping of option names to values");
    }
    return node;
  }
}
