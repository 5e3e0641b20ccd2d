// Reads and writes the safetensors format (8-byte header length, JSON header, raw little-endian data),
// single files and sharded directories (model.safetensors.index.json). F32, BF16 and F16 are read into fp32.
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class Safetensors {
  /** Storage dtypes rlsr reads and writes. */
  public enum DType {
    F32(4), BF16(2), F16(2);

    public final int bytes;

    DType(int bytes) {
      this.bytes = bytes;
    }
  }

  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private Safetensors() {}

  /** Reads the weights of a model directory: model.safetensors, or the shards its index names. */
  public static LinkedHashMap<String, FloatTensor> readModelDir(Path dir) {
    Path single = dir.resolve(SINGLE_FILE);
    Path index = dir.resolve(INDEX_FILE);
    if (Files.isRegularFile(single)) {
      return read(single);
    }
    if (!Files.isRegularFile(index)) {
      throw new RlsrException(dir + ": neither " + SINGLE_FILE + " nor " + INDEX_FILE + " found");
    }
    JsonNode idx;
    try {
      idx = Json.MAPPER.readTree(index.toFile());
    } catch (IOException e) {
      throw new RlsrException(index + ": not valid JSON: " + e.getMessage());
    }
    JsonNode map = idx.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new RlsrException(index + ": missing key \"weight_map\"");
    }
    LinkedHashMap<String, List<String>> byFile = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      var e = it.next();
      byFile.computeIfAbsent(e.getValue().asText(), k -> new ArrayList<>()).add(e.getKey());
    }
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    for (var e : byFile.entrySet()) {
      Path shard = dir.resolve(e.getKey());
      if (!Files.isRegularFile(shard)) {
        throw new RlsrException(index + ": shard \"" + e.getKey() + "\" named in weight_map is missing");
      }
      LinkedHashMap<String, FloatTensor> part = read(shard);
      for (String name : e.getValue()) {
        FloatTensor t = part.get(name);
        if (t == null) {
          throw new RlsrException(shard + ": tensor \"" + name + "\" named in " + INDEX_FILE + " is not in the shard");
        }
        out.put(name, t);
      }
    }
    return out;
  }

  /** Reads every tensor of one safetensors file into fp32, validating header and sizes. */
  public static LinkedHashMap<String, FloatTensor> read(Path file) {
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new RlsrException(file + ": truncated (" + size + " bytes, no safetensors header)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen <= 0 || headerLen > 100_000_000L || 8 + headerLen > size) {
        throw new RlsrException(file + ": truncated or corrupt header (header length " + headerLen + ", file size " + size + ")");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8);
      JsonNode header;
      try {
        header = Json.MAPPER.readTree(new String(hb.array(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new RlsrException(file + ": header is not valid JSON");
      }
      long dataStart = 8 + headerLen;
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        var e = it.next();
        String name = e.getKey();
        if (name.equals("__metadata__")) {
          continue;
        }
        JsonNode info = e.getValue();
        String dt = info.path("dtype").asText();
        DType dtype;
        try {
          dtype = DType.valueOf(dt);
        } catch (IllegalArgumentException ex) {
          throw new RlsrException(file + ": tensor \"" + name + "\" has dtype " + dt + " (supported: F32, BF16, F16)");
        }
        JsonNode shapeNode = info.path("shape");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shapeNode.get(i).asLong();
        }
        long begin = info.path("data_offsets").path(0).asLong(-1);
        long end = info.path("data_offsets").path(1).asLong(-1);
        long n = FloatTensor.numel(shape);
        if (begin < 0 || end - begin != n * dtype.bytes) {
          throw new RlsrException(file + ": tensor \"" + name + "\" has data_offsets [" + begin + ", " + end
              + "] that do not fit its shape and dtype");
        }
        if (dataStart + end > size) {
          throw new RlsrException(file + ": truncated: tensor \"" + name + "\" ends at byte " + (dataStart + end)
              + " but the file has " + size + " bytes");
        }
        if (n > Integer.MAX_VALUE) {
          throw new RlsrException(file + ": tensor \"" + name + "\" is too large for one array");
        }
        ByteBuffer raw = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin)
            .order(ByteOrder.LITTLE_ENDIAN);
        out.put(name, new FloatTensor(shape, decode(raw, dtype, (int) n)));
      }
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage(), e);
    }
    return out;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos + b.position());
      if (r < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  static float[] decode(ByteBuffer raw, DType dtype, int n) {
    float[] f = new float[n];
    switch (dtype) {
      case F32 -> raw.asFloatBuffer().get(f);
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          f[i] = Float.intBitsToFloat((raw.getShort(2 * i) & 0xffff) << 16);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          f[i] = halfToFloat(raw.getShort(2 * i));
        }
      }
    }
    return f;
  }

  /** IEEE half to float (Java 17 has no Float.float16ToFloat). */
  public static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f; // subnormal
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Float to IEEE half, round to nearest even. */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int val = bits & 0x7fffffff;
    if (val >= 0x7f800000) { // inf or NaN
      return (short) (sign | 0x7c00 | (val > 0x7f800000 ? 0x200 : 0));
    }
    if (val >= 0x477ff000) { // rounds to >= 65520: overflow to inf
      return (short) (sign | 0x7c00);
    }
    if (val < 0x38800000) { // subnormal half or zero
      float abs = Float.intBitsToFloat(val);
      int m = (int) Math.rint(abs * 0x1p24f); // rint: round half to even
      return (short) (sign | m);
    }
    int exp = (val >>> 23) - 112;
    int mant = val & 0x7fffff;
    int half = (exp << 10) | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++;
    }
    return (short) (sign | half);
  }

  /** bf16 bits of a float, round to nearest even (NaN stays NaN). */
  public static short toBf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if (Float.isNaN(v)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /**
   * Writes tensors to one safetensors file in the given dtype, with string metadata in the header.
   * The caller makes it atomic (see {@link AtomicDir}).
   */
  public static void write(Path file, Map<String, FloatTensor> tensors, DType dtype, Map<String, String> metadata)
      throws IOException {
    ObjectNode header = Json.MAPPER.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode md = header.putObject("__metadata__");
      metadata.forEach(md::put);
    }
    long offset = 0;
    for (var e : tensors.entrySet()) {
      ObjectNode info = header.putObject(e.getKey());
      info.put("dtype", dtype.name());
      var sh = info.putArray("shape");
      for (long d : e.getValue().shape()) {
        sh.add(d);
      }
      long len = (long) e.getValue().data().length * dtype.bytes;
      info.putArray("data_offsets").add(offset).add(offset + len);
      offset += len;
    }
    byte[] hdr = Json.MAPPER.writeValueAsBytes(header);
    int pad = (8 - (hdr.length % 8)) % 8; // data section 8-byte aligned, padded with spaces as HF does
    byte[] padded = new byte[hdr.length + pad];
    System.arraycopy(hdr, 0, padded, 0, hdr.length);
    for (int i = hdr.length; i < padded.length; i++) {
      padded[i] = ' ';
    }
    try (OutputStream os = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length);
      os.write(len.array());
      os.write(padded);
      ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      for (FloatTensor t : tensors.values()) {
        for (float v : t.data()) {
          if (chunk.remaining() < 4) {
            os.write(chunk.array(), 0, chunk.position());
            chunk.clear();
          }
          switch (dtype) {
            case F32 -> chunk.putFloat(v);
            case BF16 -> chunk.putShort(toBf16(v));
            case F16 -> chunk.putShort(floatToHalf(v));
          }
        }
      }
      os.write(chunk.array(), 0, chunk.position());
    }
  }
}
