// The real Qwen3 chat template (../shared/tokenizers/qwen3, skipped when absent) renders in the sandbox exactly as
// transformers renders it: the expected texts are Jinja2 3.1.6's, set up as transformers' apply_chat_template does.
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rlsr.policy.testing.SharedData;
import dev.rlsr.policy.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class QwenChatTemplateTest {
  @Test
  void qwen3TemplateRendersAsTransformersDoes() throws Exception {
    Path dir = SharedData.tokenizer("qwen3");
    assumeTrue(dir != null, "shared/tokenizers/qwen3 is absent");
    try (Tokenizer tok = Tokenizer.load(dir)) {
      PromptRenderer r = PromptRenderer.forTokenizer(tok);
      assertThat(r.usesChatTemplate()).isTrue();
      assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
        assertThat(r.render(List.of(Message.user("Name a colour."))))
            .isEqualTo("<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n");
        // an earlier answer loses its reasoning; the namespace, [::-1], startswith and split paths all run
        assertThat(r.render(List.of(new Message("system", "S"), Message.user("hi"),
            new Message("assistant", "<think>x</think>\n\nyo"), Message.user("q"))))
            .isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo"
                + "<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n");
        // after the last real query (a tool response does not count) an answer keeps its reasoning
        assertThat(r.render(List.of(Message.user("hi"), new Message("assistant", "<think>\nplan\n</think>\n\nyo"),
            Message.user("<tool_response>r</tool_response>"))))
            .isEqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\nplan\n</think>\n\nyo"
                + "<|im_end|>\n<|im_start|>user\n<tool_response>r</tool_response><|im_end|>\n<|im_start|>assistant\n");
      });
    }
  }
}
