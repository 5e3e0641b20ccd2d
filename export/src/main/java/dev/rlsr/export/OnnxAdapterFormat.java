// A LoRA adapter in ONNX Runtime's .onnx_adapter format (a flatbuffer, onnxruntime/lora/adapter_format/
// adapter_schema.fbs), which OrtLoraAdapter reads and RunOptions.addActiveLoraAdapter feeds to a session.
package dev.rlsr.export;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.NativeBuffers;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The schema (format version 1, file identifier {@code TORT}): {@code table Adapter {format_version:int;
 * adapter_version:int; model_version:int; parameters:[Parameter];}} and {@code table Parameter {name:string;
 * dims:[int64]; data_type:TensorDataType (int32, FLOAT = 1); raw_data:[uint8] (force_align: 8);}}. Each parameter
 * is one adapter tensor by its rlsr name ({@link LoraConfig#layout}), float32 little-endian: ONNX Runtime feeds it
 * to the session input of that name, the adapter inputs of
 * {@link OnnxPolicyExporter#buildWithExternalWeights(ModelConfig, LoraConfig, Map, OnnxPolicyExporter.Logits)}.
 */
public final class OnnxAdapterFormat {
  /** The only format version ONNX Runtime 1.20-1.23 reads ({@code kAdapterFormatVersion}). */
  public static final int FORMAT_VERSION = 1;
  /** The flatbuffer file identifier of the format. */
  public static final String FILE_IDENTIFIER = "TORT";
  /** The file extension ONNX Runtime GenAI gives the format. */
  public static final String EXTENSION = ".onnx_adapter";
  private static final int FLOAT = 1; // TensorDataType.FLOAT

  private OnnxAdapterFormat() {}

  /**
   * The adapter tensors of {@code lora} on {@code c}, read from {@code adapter} one at a time (checked first with
   * {@link OnnxPolicyExporter#checkAdapter}), as one flatbuffer in a new direct buffer (from its position to
   * its end), as {@code OrtLoraAdapter.create(ByteBuffer)} wants it. The caller frees it with
   * {@link NativeBuffers#free} (ONNX Runtime copies it when it creates the adapter).
   *
   * @param adapterVersion the format's {@code adapter_version} (free for the producer; rlsr writes the iteration)
   */
  public static ByteBuffer encode(ModelConfig c, LoraConfig lora, TensorSource adapter, int adapterVersion) {
    OnnxPolicyExporter.checkAdapter(c, lora, adapter);
    LinkedHashMap<String, long[]> layout = lora.layout(c);
    long estimate = 1024;
    for (Map.Entry<String, long[]> e : layout.entrySet()) {
      estimate += FloatTensor.numel(e.getValue()) * Float.BYTES + 8L * e.getValue().length + 2L * e.getKey().length()
          + 96;
    }
    if (estimate > Integer.MAX_VALUE - 16) {
      throw new RlsrException("LoRA adapter of " + estimate + " bytes: the .onnx_adapter format (one flatbuffer) "
          + "holds less than 2 GiB");
    }
    FlatBufferBuilder b = new FlatBufferBuilder((int) estimate, new DirectBuffers());
    int[] params = new int[layout.size()];
    int i = 0;
    for (Map.Entry<String, long[]> e : layout.entrySet()) {
      long[] shape = e.getValue();
      int n = Math.toIntExact(FloatTensor.numel(shape));
      ByteBuffer raw = b.createUnintializedVector(1, n * Float.BYTES, 8).order(ByteOrder.LITTLE_ENDIAN);
      FloatBuffer values = raw.asFloatBuffer();
      adapter.readInto(e.getKey(), values);
      if (values.position() != n) {
        throw new IllegalStateException("tensor " + e.getKey() + " gave " + values.position() + " values, its shape has "
            + n);
      }
      int data = b.endVector();
      b.startVector(Long.BYTES, shape.length, Long.BYTES);
      for (int d = shape.length - 1; d >= 0; d--) {
        b.addLong(shape[d]);
      }
      int dims = b.endVector();
      int name = b.createString(e.getKey());
      b.startTable(4);
      b.addOffset(0, name, 0);
      b.addOffset(1, dims, 0);
      b.addInt(2, FLOAT, 0);
      b.addOffset(3, data, 0);
      params[i++] = b.endTable();
    }
    int parameters = b.createVectorOfTables(params);
    b.startTable(4);
    b.addInt(0, FORMAT_VERSION, 0);
    b.addInt(1, adapterVersion, 0);
    b.addInt(2, 0, 0);
    b.addOffset(3, parameters, 0);
    b.finish(b.endTable(), FILE_IDENTIFIER);
    return b.dataBuffer(); // the builder's own buffer, positioned at the flatbuffer's start, limited at its end
  }

  /**
   * Writes {@code lora}'s adapter from {@code adapter} to {@code file} (conventionally {@code adapter.onnx_adapter}
   * beside the {@code model.onnx} of
   * {@link OnnxPolicyExporter#writeModel(ModelConfig, LoraConfig, TensorSource, Path, Map)}).
   */
  public static void write(ModelConfig c, LoraConfig lora, TensorSource adapter, int adapterVersion, Path file) {
    ByteBuffer fb = encode(c, lora, adapter, adapterVersion);
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        while (fb.hasRemaining()) {
          ch.write(fb);
        }
      }
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot write the LoRA adapter: " + e.getMessage(), e);
    } finally {
      NativeBuffers.free(fb);
    }
  }

  /** The builder's buffers: direct, so the finished flatbuffer goes to ONNX Runtime without a heap copy. */
  private static final class DirectBuffers extends FlatBufferBuilder.ByteBufferFactory {
    @Override
    public ByteBuffer newByteBuffer(int capacity) {
      return NativeBuffers.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void releaseByteBuffer(ByteBuffer bb) {
      NativeBuffers.free(bb);
    }
  }
}
