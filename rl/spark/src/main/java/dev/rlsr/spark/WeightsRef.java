// How a task reaches one version of the weights: the Spark broadcast variable that holds them, or the path of a
// file the driver wrote in --spark-weights-dir (only the path travels).
package dev.rlsr.spark;

import dev.rlsr.policy.checkpoint.SafetensorsSource;
import dev.rlsr.policy.model.TensorSource;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.broadcast.Broadcast;

interface WeightsRef extends Serializable {
  /** 0 at open, iteration + 1 after that iteration's update. */
  long version();

  /** The tensors, to read during one sync; close it afterwards. */
  Opened open();

  /** Tensors to read once, and what to release after. */
  interface Opened extends AutoCloseable {
    TensorSource tensors();

    @Override
    void close();
  }

  /** The weights as the broadcast variable's value (fetched by Spark, kept in the executor's block manager). */
  record Broadcasted(Broadcast<WeightsMessage> broadcast, long version) implements WeightsRef {
    @Override
    public Opened open() {
      TensorSource t = broadcast.value().source();
      return new Opened() {
        @Override
        public TensorSource tensors() {
          return t;
        }

        @Override
        public void close() {}
      };
    }
  }

  /** The weights as a float32 safetensors file every executor reads at this path, memory-mapped while it syncs. */
  record File(String path, long version) implements WeightsRef {
    @Override
    public Opened open() {
      Path p = Path.of(path);
      if (!Files.isRegularFile(p)) {
        throw new dev.rlsr.policy.util.RlsrException(ExecutorRollouts.where() + ": " + p + " (--spark-weights-dir) is"
            + " not readable here: it must be a directory every executor sees at the same path");
      }
      SafetensorsSource s = SafetensorsSource.open(p);
      return new Opened() {
        @Override
        public TensorSource tensors() {
          return s;
        }

        @Override
        public void close() {
          s.close();
        }
      };
    }
  }
}
