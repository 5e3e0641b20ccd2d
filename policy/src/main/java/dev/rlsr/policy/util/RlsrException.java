// The one exception type for user-facing errors: its message says what is wrong and where (file, line, key or flag).
package dev.rlsr.policy.util;

public class RlsrException extends RuntimeException {
  public RlsrException(String message) {
    super(message);
  }

  public RlsrException(String message, Throwable cause) {
    super(message, cause);
  }
}
