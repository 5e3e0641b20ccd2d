// `rlsr logprobs`: per-token log-probabilities of a text under a model, as one JSON object on stdout.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.OrtRolloutEngine;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.SftTrainer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "logprobs", mixinStandardHelpOptions = true,
    description = "Prints {\"ids\": [...], \"logprobs\": [...]}: TEXT tokenized without special tokens or template, "
        + "logprobs[i] = log p(ids[i+1] | ids[0..i]).")
public final class LogprobsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--model", required = true, description = "Hugging Face model directory.")
  Path model;

  @Option(names = "--text", required = true, description = "The text to score.")
  String text;

  @Option(names = "--backend", defaultValue = "tf", converter = FlagConverters.LogprobsBackend.class, description = "tf (TensorFlow graph) or onnx (ONNX Runtime session of the exported graph) (default: ${DEFAULT-VALUE}).")
  RolloutEngines.Backend backend;

  @Mixin DeviceMixin deviceOption;

  @Override
  public Integer call() throws Exception {
    Device device = deviceOption.device;
    if (backend == RolloutEngines.Backend.TF && device != Device.CPU) {
      throw new RlsrException("--device " + device + " applies to --backend onnx only");
    }
    try (HfModel m = HfModel.load(model)) {
      int[] ids = m.tokenizer().encode(text);
      if (ids.length == 0) {
        throw new RlsrException("--text tokenizes to no tokens");
      }
      float[] lps = new float[Math.max(0, ids.length - 1)];
      if (ids.length > 1) {
        int[][] in = {ids};
        int[][] tg = new int[1][ids.length];
        System.arraycopy(ids, 1, tg[0], 0, ids.length - 1);
        int[][] mask = new int[1][ids.length];
        java.util.Arrays.fill(mask[0], 1);
        int[][] pos = SftTrainer.positions(1, ids.length);
        if (backend == RolloutEngines.Backend.TF) {
          try (PolicyGraph g = PolicyGraph.create(m.config(), m.tensors(), PolicyGraph.Options.inference(threads.threads),
              List.of())) {
            float[] row = g.forward(in, tg, mask, pos, false).logprobs()[0];
            System.arraycopy(row, 0, lps, 0, lps.length);
          }
        } else {
          EngineOptions eo = EngineOptions.of(threads.threads, device).withLogits(OnnxPolicyExporter.Logits.ALL);
          try (OrtRolloutEngine e = RolloutEngines.openOrt(RolloutEngines.Backend.ONNX, m.config(), m.tensors(), eo)) {
            float[] logits = e.forward().logits(in, mask, pos); // [T * V]
            int vocab = m.config().vocabSize();
            for (int i = 0; i < lps.length; i++) {
              lps[i] = (float) logSoftmaxAt(logits, i * vocab, vocab, ids[i + 1]);
            }
          }
        }
      }
      ObjectNode o = Json.MAPPER.createObjectNode();
      var a = o.putArray("ids");
      for (int id : ids) {
        a.add(id);
      }
      var l = o.putArray("logprobs");
      for (float f : lps) {
        l.add(f);
      }
      spec.commandLine().getOut().println(Json.MAPPER.writeValueAsString(o));
      return 0;
    }
  }

  /** log_softmax(logits[from .. from+vocab))[id], in double. */
  static double logSoftmaxAt(float[] logits, int from, int vocab, int id) {
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[from + v]);
    }
    double z = 0;
    for (int v = 0; v < vocab; v++) {
      z += Math.exp(logits[from + v] - max);
    }
    return logits[from + id] - max - Math.log(z);
  }
}
