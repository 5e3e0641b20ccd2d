// The RLSR reward: cosine similarity of a sampled response's sentence embedding and its reference response's embedding.
package dev.rlsr.embedder;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reward of a candidate (sampled) response = {@code cosine(E(candidate), E(reference))}.
 *
 * <p>Reference embeddings are computed once per distinct reference text, each text alone (so its vector does not
 * depend on which texts came first, or on which rollout worker saw it first: a Spark executor and the local trainer
 * get the same bits), and kept for the life of this object (one run; a 4,500-prompt data set with 384-dim vectors
 * holds ~7 MB). Candidates are embedded together, one call per {@link #score} call.
 *
 * <p>A blank candidate (empty or whitespace only) gets reward 0, as does any candidate of a blank reference: an
 * empty answer earns nothing, rather than the similarity of the encoder's empty-sequence vector to the reference
 * (which for all-MiniLM-L6-v2 is not 0 and would reward saying nothing).
 */
public final class EmbeddingReward {
  private final SentenceEmbedder embedder;
  private final Map<String, float[]> references = new ConcurrentHashMap<>();

  public EmbeddingReward(SentenceEmbedder embedder) {
    this.embedder = embedder;
  }

  /**
   * Rewards of candidates against their references, pair by pair.
   *
   * @throws IllegalArgumentException if the lists differ in size or contain null
   */
  public float[] score(List<String> candidates, List<String> references) {
    if (candidates.size() != references.size()) {
      throw new IllegalArgumentException("score needs one reference per candidate: " + candidates.size()
          + " candidates, " + references.size() + " references");
    }
    Set<String> missing = new LinkedHashSet<>();
    for (String reference : references) {
      if (reference == null) {
        throw new IllegalArgumentException("references must not contain null");
      }
      if (!reference.isBlank() && !this.references.containsKey(reference)) {
        missing.add(reference);
      }
    }
    for (String text : missing) {
      this.references.put(text, embedder.embed(List.of(text))[0]);
    }
    List<String> toEmbed = new ArrayList<>();
    int[] slot = new int[candidates.size()];
    for (int i = 0; i < candidates.size(); i++) {
      String candidate = candidates.get(i);
      if (candidate == null) {
        throw new IllegalArgumentException("candidates must not contain null (index " + i + ")");
      }
      boolean scored = !candidate.isBlank() && !references.get(i).isBlank();
      slot[i] = scored ? toEmbed.size() : -1;
      if (scored) {
        toEmbed.add(candidate);
      }
    }
    float[][] vectors = embedder.embed(toEmbed);
    float[] rewards = new float[candidates.size()];
    for (int i = 0; i < rewards.length; i++) {
      rewards[i] = slot[i] < 0 ? 0f : cosine(vectors[slot[i]], this.references.get(references.get(i)));
    }
    return rewards;
  }

  /** Number of distinct reference texts cached so far. */
  public int cachedReferences() {
    return references.size();
  }

  /** Cosine similarity (computed in double); 0 when either vector is all zeros. */
  public static float cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vectors differ in length: " + a.length + " vs " + b.length);
    }
    double dot = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      aa += (double) a[i] * a[i];
      bb += (double) b[i] * b[i];
    }
    return aa == 0 || bb == 0 ? 0f : (float) (dot / Math.sqrt(aa * bb));
  }
}
