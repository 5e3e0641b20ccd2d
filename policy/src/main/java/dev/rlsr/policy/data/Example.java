// One instruction example: the prompt as chat messages and the reference response.
package dev.rlsr.policy.data;

import java.util.List;
import java.util.Objects;

/**
 * @param messages the prompt: an optional system message, then user/assistant turns ending with a user turn
 * @param response the reference (assistant) response
 */
public record Example(List<Message> messages, String response) {
  public Example {
    messages = List.copyOf(messages);
    Objects.requireNonNull(response, "response");
    if (messages.isEmpty() || !messages.get(messages.size() - 1).role().equals(Message.USER)) {
      throw new IllegalArgumentException("an example's prompt must end with a user message");
    }
  }

  /** A single-turn example. */
  public static Example of(String prompt, String response) {
    return new Example(List.of(Message.user(prompt)), response);
  }

  /** The last user message's content (for logs and sample tables). */
  public String promptText() {
    return messages.get(messages.size() - 1).content();
  }
}
