// `rlsr embed`: sentence embeddings of texts as one JSON object {"embeddings": [[...], ...]} on stdout.
package dev.rlsr.cli;

import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.util.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "embed", mixinStandardHelpOptions = true,
    description = "Print sentence embeddings of the given texts, in the order given, as {\"embeddings\": [[...], ...]}.")
final class EmbedCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin EmbedderOptions embedder;

  static final class Input {
    @Option(names = "--text", paramLabel = "TEXT", required = true, description = "A text to embed (repeatable).")
    String text;

    @Option(names = "--file", paramLabel = "FILE", required = true,
        description = "A UTF-8 file whose whole content is one text to embed (repeatable).")
    Path file;
  }

  @ArgGroup(exclusive = true, multiplicity = "1..*")
  List<Input> inputs;

  @Override
  public Integer call() throws Exception {
    List<String> texts = new ArrayList<>();
    for (Input input : inputs) {
      texts.add(TextArg.resolve(input.text, input.file));
    }
    float[][] vectors;
    try (SentenceEmbedder model = embedder.load()) {
      vectors = model.embed(texts);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("embeddings", vectors);
    spec.commandLine().getOut().println(Json.MAPPER.writeValueAsString(out));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
