// One chat message (role "system", "user" or "assistant") of a prompt.
package dev.rlsr.policy.data;

import java.util.Objects;

public record Message(String role, String content) {
  public static final String SYSTEM = "system";
  public static final String USER = "user";
  public static final String ASSISTANT = "assistant";

  public Message {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }

  public static Message user(String content) {
    return new Message(USER, content);
  }
}
