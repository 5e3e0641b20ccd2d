// A safetensors file, or the file or shards of a model directory, as a TensorSource: headers validated up front
// exactly as Safetensors.read does, then each tensor memory-mapped, converted to float32 and unmapped only when read.
package dev.rlsr.policy.checkpoint;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.NativeBuffers;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lazy reads of safetensors weights. {@link #open} and {@link #openModelDir} refuse what {@link Safetensors#read} and
 * {@link Safetensors#readModelDir} refuse, with the same messages, before any tensor is read; afterwards only the
 * tensor being read is in memory (its file pages while mapped, and the float32 values the caller asked for). The
 * files stay open until {@link #close}, so a file replaced or deleted meanwhile does not change what is read.
 */
public final class SafetensorsSource implements TensorSource, AutoCloseable {
  private record Located(FileChannel channel, Safetensors.Entry entry, long dataStart) {}

  private final List<FileChannel> channels;
  private final LinkedHashMap<String, Located> tensors;
  private final Map<String, String> metadata;
  private volatile boolean closed;

  private SafetensorsSource(List<FileChannel> channels, LinkedHashMap<String, Located> tensors,
      Map<String, String> metadata) {
    this.channels = channels;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** One safetensors file: its tensors in header order. */
  public static SafetensorsSource open(Path file) {
    List<FileChannel> channels = new ArrayList<>();
    try {
      LinkedHashMap<String, Located> out = new LinkedHashMap<>();
      Safetensors.Header h = openFile(file, channels, out, null);
      return new SafetensorsSource(channels, out, Map.copyOf(h.metadata()));
    } catch (RuntimeException e) {
      closeAll(channels);
      throw e;
    }
  }

  /**
   * The weights of a model directory: model.safetensors, or the shards its index names, in the order
   * {@link Safetensors#readModelDir} gives them. Every tensor the index lists must be in its shard; tensors a shard
   * holds beyond those are not part of the source.
   */
  public static SafetensorsSource openModelDir(Path dir) {
    Path single = dir.resolve(Safetensors.SINGLE_FILE);
    if (Files.isRegularFile(single)) {
      return open(single);
    }
    List<FileChannel> channels = new ArrayList<>();
    try {
      LinkedHashMap<String, Located> out = new LinkedHashMap<>();
      for (var e : Safetensors.shardIndex(dir).entrySet()) {
        openFile(dir.resolve(e.getKey()), channels, out, e.getValue());
      }
      return new SafetensorsSource(channels, out, Map.of());
    } catch (RuntimeException e) {
      closeAll(channels);
      throw e;
    }
  }

  /** Validates one file's header and adds its tensors ({@code only}: just these, in this order; null: all). */
  private static Safetensors.Header openFile(Path file, List<FileChannel> channels, LinkedHashMap<String, Located> out,
      List<String> only) {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage(), e);
    }
    channels.add(ch);
    Safetensors.Header h;
    try {
      h = Safetensors.header(file, ch);
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage(), e);
    }
    LinkedHashMap<String, Safetensors.Entry> byName = new LinkedHashMap<>();
    h.entries().forEach(t -> byName.put(t.name(), t));
    for (String name : only == null ? List.copyOf(byName.keySet()) : only) {
      Safetensors.Entry t = byName.get(name);
      if (t == null) {
        throw Safetensors.notInShard(file, name);
      }
      out.put(name, new Located(ch, t, h.dataStart()));
    }
    return h;
  }

  /** The {@code __metadata__} of a single file (empty for a sharded directory). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The storage dtype of one tensor. */
  public Safetensors.DType dtype(String name) {
    return locate(name).entry().dtype();
  }

  @Override
  public LinkedHashMap<String, long[]> shapes() {
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
    tensors.forEach((k, v) -> out.put(k, v.entry().shape().clone()));
    return out;
  }

  /** A fresh float32 copy of one tensor. */
  @Override
  public FloatTensor read(String name) {
    FloatTensor t = FloatTensor.zeros(locate(name).entry().shape());
    readInto(name, FloatBuffer.wrap(t.data()));
    return t;
  }

  /** Maps the tensor's bytes, converts them into {@code dst} and unmaps them before returning. */
  @Override
  public void readInto(String name, FloatBuffer dst) {
    Located l = locate(name);
    Safetensors.Entry t = l.entry();
    int n = (int) ((t.end() - t.begin()) / t.dtype().bytes);
    if (dst.remaining() < n) {
      throw new IllegalArgumentException("tensor " + name + " has " + n + " values, the buffer room for "
          + dst.remaining());
    }
    MappedByteBuffer raw;
    try {
      raw = l.channel().map(FileChannel.MapMode.READ_ONLY, l.dataStart() + t.begin(), t.end() - t.begin());
    } catch (IOException e) {
      throw new RlsrException("cannot map tensor \"" + name + "\": " + e.getMessage(), e);
    }
    try {
      Safetensors.decodeInto(raw, t.dtype(), dst, n);
    } finally {
      NativeBuffers.free(raw);
    }
  }

  private Located locate(String name) {
    if (closed) {
      throw new IllegalStateException("safetensors source closed; cannot read " + name);
    }
    Located l = tensors.get(name);
    if (l == null) {
      throw new IllegalArgumentException("no tensor " + name);
    }
    return l;
  }

  @Override
  public void close() {
    closed = true;
    closeAll(channels);
  }

  private static void closeAll(List<FileChannel> channels) {
    for (FileChannel c : channels) {
      try {
        c.close();
      } catch (IOException ignored) {
        // read-only: nothing is lost
      }
    }
  }
}
