// `rlsr reward`: RLSR rewards (cosine of sentence embeddings) of candidates against one reference, as {"rewards": [...]}.
package dev.rlsr.cli;

import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.util.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
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

@Command(name = "reward", mixinStandardHelpOptions = true,
    description = {"Print the RLSR reward of each candidate: the cosine similarity of its sentence embedding and the "
        + "reference's, as {\"rewards\": [...]} in candidate order.",
        "A blank (empty or whitespace-only) candidate gets reward 0."})
final class RewardCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin EmbedderOptions embedder;

  static final class Reference {
    @Option(names = "--reference", paramLabel = "TEXT", required = true, description = "The reference response.")
    String text;

    @Option(names = "--reference-file", paramLabel = "FILE", required = true,
        description = "A UTF-8 file whose whole content is the reference response.")
    Path file;
  }

  static final class Candidate {
    @Option(names = "--candidate", paramLabel = "TEXT", required = true, description = "A candidate response (repeatable).")
    String text;

    @Option(names = "--candidate-file", paramLabel = "FILE", required = true,
        description = "A UTF-8 file whose whole content is one candidate response (repeatable).")
    Path file;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Reference reference;

  @ArgGroup(exclusive = true, multiplicity = "1..*")
  List<Candidate> candidates;

  @Override
  public Integer call() throws Exception {
    String referenceText = TextArg.resolve(reference.text, reference.file);
    List<String> texts = new ArrayList<>();
    for (Candidate candidate : candidates) {
      texts.add(TextArg.resolve(candidate.text, candidate.file));
    }
    float[] rewards;
    try (SentenceEmbedder model = embedder.load()) {
      rewards = new EmbeddingReward(model).score(texts, Collections.nCopies(texts.size(), referenceText));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rewards", rewards);
    spec.commandLine().getOut().println(Json.MAPPER.writeValueAsString(out));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
