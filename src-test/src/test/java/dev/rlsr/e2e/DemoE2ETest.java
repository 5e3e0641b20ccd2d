// `rlsr demo` on a small budget, end to end: the table, report and summary are written, and the exported ONNX
// directory of the best model works in a plain ONNX Runtime session with Hugging Face's tokenizer (DJL) and no rlsr
// class: greedy decoding there reproduces the answer the demo printed.
package dev.rlsr.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoE2ETest {
  @TempDir Path tmp;

  @Test
  void demoOnASmallBudgetExportsAnOnnxModelThatPlainOnnxRuntimeRuns() throws Exception {
    Path out = tmp.resolve("demo");
    var run = PipelineE2ETest.rlsr("demo", "--out", out.toString(), "--budget", "128", "--eval-limit", "8",
        "--threads", "2");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("| model |").contains("| SFT+RLSR |").contains("ONNX answer:");
    assertThat(out.resolve("report.md")).exists();
    JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    for (String m : List.of("base", "SFT", "RLSR", "SFT+RLSR")) {
      assertThat(summary.get(m).get("n").asInt()).isEqualTo(8);
    }

    // From here on: only ONNX Runtime, DJL's Hugging Face tokenizer and Jackson — what a serving consumer has.
    Path onnx = out.resolve("best-onnx");
    for (String f : List.of("model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
      assertThat(onnx.resolve(f)).exists();
    }
    ObjectMapper json = new ObjectMapper();
    JsonNode config = json.readTree(onnx.resolve("config.json").toFile());
    int layers = config.get("num_hidden_layers").asInt();
    int kvHeads = config.get("num_key_value_heads").asInt();
    int headDim = config.get("hidden_size").asInt() / config.get("num_attention_heads").asInt();
    int vocab = config.get("vocab_size").asInt();
    long eos = json.readTree(onnx.resolve("generation_config.json").toFile()).get("eos_token_id").asLong();
    String prompt = "### Instruction:\n" + summary.get("answer_prompt").asText() + "\n\n### Response:\n";
    OrtEnvironment env = OrtEnvironment.getEnvironment(); // the process-wide environment: not closed
    try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(onnx.resolve("tokenizer.json"),
            Map.of("addSpecialTokens", "false"));
        OrtSession session = env.createSession(onnx.resolve("model.onnx").toString(), new OrtSession.SessionOptions())) {
      List<Long> ids = new ArrayList<>();
      for (long id : tok.encode(prompt).getIds()) {
        ids.add(id);
      }
      List<Long> generated = new ArrayList<>();
      for (int step = 0; step < 24; step++) { // greedy, recomputing the whole sequence with an empty past
        int n = ids.size();
        long[] idArr = ids.stream().mapToLong(Long::longValue).toArray();
        long[] mask = new long[n];
        long[] pos = new long[n];
        for (int i = 0; i < n; i++) {
          mask[i] = 1;
          pos[i] = i;
        }
        Map<String, OnnxTensor> in = new HashMap<>();
        in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(idArr), new long[] {1, n}));
        in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {1, n}));
        in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {1, n}));
        for (int l = 0; l < layers; l++) {
          for (String kind : List.of("key", "value")) {
            in.put("past_key_values." + l + "." + kind,
                OnnxTensor.createTensor(env, java.nio.FloatBuffer.allocate(0), new long[] {1, kvHeads, 0, headDim}));
          }
        }
        long next;
        try (OrtSession.Result r = session.run(in)) {
          float[][][] logits = (float[][][]) r.get("logits").get().getValue();
          float[] last = logits[0][n - 1];
          assertThat(last).hasSize(vocab);
          int best = 0;
          for (int k = 1; k < last.length; k++) {
            if (last[k] > last[best]) {
              best = k;
            }
          }
          next = best;
        } finally {
          in.values().forEach(OnnxTensor::close);
        }
        generated.add(next);
        if (next == eos) {
          break;
        }
        ids.add(next);
      }
      String answer = tok.decode(generated.stream().mapToLong(Long::longValue).toArray(), true).strip();
      assertThat(answer).isEqualTo(summary.get("answer").asText());
    }
  }
}
