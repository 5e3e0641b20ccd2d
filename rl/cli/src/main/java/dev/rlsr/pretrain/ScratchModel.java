// Creates a randomly initialised Llama-style Hugging Face model directory for a given tokenizer, the starting
// point of pretraining from scratch (rlsr pretrain without --model, and the demo's base model).
package dev.rlsr.pretrain;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.RandomWeights;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

public final class ScratchModel {
  private ScratchModel() {}

  /**
   * Architecture of a new model (always {@code llama}, tied input/output embeddings, rope_theta 10000).
   *
   * @param hiddenSize       model width; a multiple of {@code heads} with an even head size
   * @param intermediateSize SwiGLU inner width
   * @param layers           decoder layers
   * @param heads            attention (query) heads
   * @param kvHeads          key/value heads; divides {@code heads}
   * @param maxPositions     max_position_embeddings (rotary, so only a declared limit)
   */
  public record Size(int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads, int maxPositions) {
    public Size {
      if (hiddenSize < 1 || intermediateSize < 1 || layers < 1 || heads < 1 || kvHeads < 1 || maxPositions < 2) {
        throw new RlsrException("model size: every dimension must be positive (got " + hiddenSize + " hidden, "
            + intermediateSize + " intermediate, " + layers + " layers, " + heads + " heads, " + kvHeads
            + " kv heads, " + maxPositions + " positions)");
      }
      if (hiddenSize % heads != 0 || (hiddenSize / heads) % 2 != 0) {
        throw new RlsrException("--hidden-size " + hiddenSize + " must be a multiple of --heads " + heads
            + " with an even head size (hidden / heads)");
      }
      if (heads % kvHeads != 0) {
        throw new RlsrException("--heads " + heads + " must be a multiple of --kv-heads " + kvHeads);
      }
    }
  }

  /**
   * The config for a tokenizer: vocab_size is the tokenizer's size rounded up to a multiple of 64 (as HF pads
   * embedding matrices); bos/eos ids are the tokenizer's (BOS falls back to the EOS id, as in GPT-2).
   */
  public static ModelConfig config(Tokenizer tok, Size s) {
    int[] eos = tok.eosIds();
    if (eos.length == 0) {
      throw new RlsrException(tok.modelDir() + ": the tokenizer has no EOS token (set eos_token in"
          + " tokenizer_config.json); pretraining needs one to end documents");
    }
    int vocab = (tok.vocabSize() + 63) / 64 * 64;
    int bos = tok.bosId() >= 0 ? tok.bosId() : eos[0];
    return ModelConfig.builder("llama").vocabSize(vocab).hiddenSize(s.hiddenSize())
        .intermediateSize(s.intermediateSize()).layers(s.layers()).heads(s.heads()).kvHeads(s.kvHeads()).tied(true)
        .ropeTheta(10000.0).maxPositions(s.maxPositions()).bosId(bos).eosId(eos[0]).build();
  }

  /**
   * Writes {@code outDir} as a Hugging Face model directory: the config, weights from
   * {@link ModelWeights#random} (normal(0, 0.02), norms 1; drawn by {@link RandomWeights} as they are written) and
   * the tokenizer files of {@code tokenizerDir}.
   */
  public static Path create(Path tokenizerDir, ModelConfig config, long seed, Path outDir) {
    try (Tokenizer tok = Tokenizer.load(tokenizerDir)) {
      tok.validateAgainst(config, tokenizerDir);
      // drawn tensor by tensor as they are written: a from-scratch model of real size is never whole in memory
      HfModel.save(outDir, config, new RandomWeights(config, seed), tok, Map.of("rlsr.init_seed", Long.toString(seed)));
      return outDir;
    } catch (IOException e) {
      throw new RlsrException(outDir + ": cannot write the initial model: " + e.getMessage(), e);
    }
  }
}
