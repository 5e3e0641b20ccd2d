// Publishing a run's final model: a checkpoint's model files staged in OUT/.final.tmp and moved into OUT itself,
// config.json (an adapter's adapter_config.json) last, so OUT passes for a model directory only once every other
// file is in place.
package dev.rlsr.policy.checkpoint;

import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The copy behind {@link Checkpoints#publish}. */
final class FinalModel {
  private FinalModel() {}

  /**
   * Publishes {@code checkpoint} into {@code outDir} (see {@link Checkpoints#publish(Path)}), calling
   * {@code beforeMove} with each file name before it is moved into OUT (tests).
   */
  static void publish(Path outDir, Path checkpoint, Consumer<String> beforeMove) {
    Path staged = outDir.resolve(Checkpoints.FINAL_TMP);
    try {
      FileTrees.deleteTree(staged);
      Files.createDirectories(staged);
      List<String> names = new ArrayList<>();
      try (Stream<Path> files = Files.list(checkpoint)) {
        for (Path f : files.sorted().toList()) {
          String n = f.getFileName().toString();
          if (n.equals(Checkpoints.OPTIMIZER) || n.equals(Checkpoints.TRAINER_STATE) || !Files.isRegularFile(f)) {
            continue;
          }
          Files.copy(f, staged.resolve(n), StandardCopyOption.REPLACE_EXISTING);
          names.add(n);
        }
      }
      // a whole model is complete once config.json is there, an adapter once adapter_config.json is
      String marker = names.contains(HfModel.CONFIG) ? HfModel.CONFIG : PeftAdapter.CONFIG;
      if (!names.contains(marker)) {
        throw new IOException(checkpoint + " has no " + HfModel.CONFIG + " (nor " + PeftAdapter.CONFIG + ")");
      }
      DurableFiles.syncTree(staged);
      Files.deleteIfExists(outDir.resolve(HfModel.CONFIG));
      Files.deleteIfExists(outDir.resolve(PeftAdapter.CONFIG)); // OUT holds one kind of model at a time
      names.remove(marker);
      names.add(marker); // last: its presence says the model is complete
      for (String n : names) {
        beforeMove.accept(n);
        Files.move(staged.resolve(n), outDir.resolve(n), StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      }
      DurableFiles.syncDir(outDir);
      FileTrees.deleteTree(staged);
    } catch (IOException e) {
      throw new RlsrException(outDir + ": cannot publish the final model: " + e.getMessage(), e);
    }
  }
}
