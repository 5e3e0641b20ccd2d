// Strict, typed reading of the JSON (and YAML) files users hand to rlsr: one value per document, no duplicate keys,
// and each key read with the type it must have, so a wrongly typed value is refused instead of becoming a default.
package dev.rlsr.policy.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed getters over a JSON object, bound to the name of the file it came from. Every refusal reads
 * {@code SOURCE: "key" must be TYPE, got VALUE}.
 * <ul>
 *   <li>Integers must be JSON integers ({@code 64.5} and {@code 64.0} are refused, as Python's {@code range()} and
 *       PyTorch would refuse them) that fit in an int.</li>
 *   <li>Numbers ({@link #optDouble}) accept integers and decimals; strings such as {@code "1e-6"} are refused.</li>
 *   <li>Booleans must be {@code true} or {@code false}; {@code "yes"}, {@code 1} and {@code "true"} are refused.</li>
 *   <li>An absent key and an explicit {@code null} mean the same: the default (optional keys) or "missing key"
 *       (required keys), as Hugging Face's config classes treat {@code null}.</li>
 * </ul>
 */
public final class StrictJson {
  /** JSON: duplicate keys and anything after the top-level value are errors. */
  public static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  /** YAML with the same strictness. */
  public static final ObjectMapper YAML = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private final ObjectNode node;
  private final String source;

  private StrictJson(ObjectNode node, String source) {
    this.node = node;
    this.source = source;
  }

  /** Typed getters over {@code node}; {@code source} (usually the file) prefixes every error. */
  public static StrictJson of(ObjectNode node, String source) {
    return new StrictJson(node, source);
  }

  /** Reads a file that must hold one JSON object (strict: no duplicate keys, nothing after the object). */
  public static ObjectNode readObject(Path file) {
    JsonNode n;
    try {
      n = JSON.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new RlsrException(file + ": not found");
    } catch (JsonProcessingException e) {
      throw new RlsrException(file + ": not valid JSON: " + describe(e));
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (!(n instanceof ObjectNode o)) {
      throw new RlsrException(file + ": expected a JSON object, got " + kind(n));
    }
    return o;
  }

  /** {@link #readObject} when the file exists, else an empty object. */
  public static ObjectNode readObjectIfPresent(Path file) {
    return Files.isRegularFile(file) ? readObject(file) : JSON.createObjectNode();
  }

  /** Jackson's message without the source excerpt, plus line and column. */
  public static String describe(JsonProcessingException e) {
    String msg = e.getOriginalMessage() != null ? e.getOriginalMessage() : e.getClass().getSimpleName();
    if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
      msg += " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }
    return msg;
  }

  /** "object", "array", "string", "number", "boolean" or "null". */
  public static String kind(JsonNode n) {
    return n == null || n.isMissingNode() ? "nothing" : n.getNodeType().toString().toLowerCase();
  }

  public ObjectNode node() {
    return node;
  }

  public String source() {
    return source;
  }

  /** True when the key is present and not null. */
  public boolean has(String key) {
    JsonNode v = node.get(key);
    return v != null && !v.isNull();
  }

  public int requireInt(String key) {
    if (!has(key)) {
      throw missing(key);
    }
    return toInt(key, node.get(key));
  }

  public int requirePositiveInt(String key) {
    int v = requireInt(key);
    if (v <= 0) {
      throw wrong(key, "a positive integer", node.get(key));
    }
    return v;
  }

  public int optInt(String key, int dflt) {
    return has(key) ? toInt(key, node.get(key)) : dflt;
  }

  public int optPositiveInt(String key, int dflt) {
    if (!has(key)) {
      return dflt;
    }
    int v = toInt(key, node.get(key));
    if (v <= 0) {
      throw wrong(key, "a positive integer", node.get(key));
    }
    return v;
  }

  /** Any finite JSON number (integer or decimal). */
  public double optDouble(String key, double dflt) {
    return has(key) ? toDouble(key, node.get(key), false) : dflt;
  }

  /** Any finite JSON number greater than 0. */
  public double optPositiveDouble(String key, double dflt) {
    return has(key) ? toDouble(key, node.get(key), true) : dflt;
  }

  private double toDouble(String key, JsonNode v, boolean positive) {
    if (!v.isNumber() || !Double.isFinite(v.doubleValue()) || (positive && !(v.doubleValue() > 0))) {
      throw wrong(key, positive ? "a positive number" : "a number", v);
    }
    return v.doubleValue();
  }

  public boolean optBool(String key, boolean dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonNode v = node.get(key);
    if (!v.isBoolean()) {
      throw wrong(key, "true or false", v);
    }
    return v.booleanValue();
  }

  public String optString(String key, String dflt) {
    if (!has(key)) {
      return dflt;
    }
    JsonNode v = node.get(key);
    if (!v.isTextual()) {
      throw wrong(key, "a string", v);
    }
    return v.textValue();
  }

  /** An integer or a list of integers (e.g. {@code eos_token_id}); absent or null gives an empty list. */
  public List<Integer> optIntOrList(String key) {
    List<Integer> out = new ArrayList<>();
    if (!has(key)) {
      return out;
    }
    JsonNode v = node.get(key);
    if (v.isArray()) {
      for (int i = 0; i < v.size(); i++) {
        if (!isInt(v.get(i))) {
          throw new RlsrException(source + ": \"" + key + "\"[" + i + "] must be an integer, got " + show(v.get(i)));
        }
        out.add(v.get(i).intValue());
      }
    } else if (isInt(v)) {
      out.add(v.intValue());
    } else {
      throw wrong(key, "an integer or a list of integers", v);
    }
    return out;
  }

  private int toInt(String key, JsonNode v) {
    if (!isInt(v)) {
      throw wrong(key, "an integer", v);
    }
    return v.intValue();
  }

  private static boolean isInt(JsonNode v) {
    return v != null && v.isIntegralNumber() && v.canConvertToInt();
  }

  private RlsrException missing(String key) {
    return new RlsrException(source + ": missing key \"" + key + "\"");
  }

  private RlsrException wrong(String key, String what, JsonNode v) {
    String range = v.isIntegralNumber() && !v.canConvertToInt() ? " (out of range)" : "";
    return new RlsrException(source + ": \"" + key + "\" must be " + what + ", got " + show(v) + range);
  }

  /** The value as JSON, shortened. */
  static String show(JsonNode v) {
    String s = v.toString();
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
