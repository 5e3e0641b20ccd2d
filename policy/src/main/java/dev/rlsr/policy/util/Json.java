// Shared Jackson mappers (JSON and YAML) so every module reads and writes JSON the same way.
package dev.rlsr.policy.util;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper();
  public static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  /** Records to snake_case JSON (run configs written into checkpoints). */
  public static final ObjectMapper SNAKE = new ObjectMapper()
      .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);

  private Json() {}
}
