// A refused request as the OpenAI API reports it: an HTTP status and {"error": {message, type, param, code}}.
package dev.rlsr.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;

/**
 * Thrown while a request is read or checked; the server answers it with {@link #status} and {@link #body} and goes
 * on serving. {@code type} is OpenAI's: {@code invalid_request_error} for 4xx, {@code server_error} for 5xx.
 */
public final class ApiError extends RuntimeException {
  public final int status;
  public final String type;
  public final String param; // the request field at fault, or null
  public final String code;  // OpenAI's machine-readable code, or null

  public ApiError(int status, String message, String param, String code) {
    super(message);
    this.status = status;
    this.type = status >= 500 ? "server_error" : "invalid_request_error";
    this.param = param;
    this.code = code;
  }

  /** 400: a field missing, of the wrong type or out of range. */
  public static ApiError badField(String param, String message) {
    return new ApiError(400, message, param, null);
  }

  public ObjectNode body() {
    ObjectNode root = Json.MAPPER.createObjectNode();
    ObjectNode e = root.putObject("error");
    e.put("message", getMessage());
    e.put("type", type);
    if (param == null) {
      e.putNull("param");
    } else {
      e.put("param", param);
    }
    if (code == null) {
      e.putNull("code");
    } else {
      e.put("code", code);
    }
    return root;
  }
}
