// The one exception type for user-facing embedder errors: the message names the file, name or flag and says how to fix it.
package dev.rlsr.embedder;

public class EmbedderException extends RuntimeException {
  public EmbedderException(String message) {
    super(message);
  }

  public EmbedderException(String message, Throwable cause) {
    super(message, cause);
  }
}
