// Reads and writes the safetensors format (8-byte header length, JSON header, raw little-endian data),
// single files and sharded directories (model.safetensors.index.json). F32, BF16 and F16 are read into fp32.
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.NativeBuffers;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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

  /**
   * Reads the weights of a model directory: model.safetensors, or the shards its index names. Every tensor the index
   * lists must be in its shard; tensors a shard holds beyond those are ignored.
   */
  public static LinkedHashMap<String, FloatTensor> readModelDir(Path dir) {
    Path single = dir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(single)) {
      return read(single);
    }
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    for (var e : shardIndex(dir).entrySet()) {
      Path shard = dir.resolve(e.getKey());
      LinkedHashMap<String, FloatTensor> part = read(shard);
      for (String name : e.getValue()) {
        FloatTensor t = part.get(name);
        if (t == null) {
          throw notInShard(shard, name);
        }
        out.put(name, t);
      }
    }
    return out;
  }

  /**
   * The shards of a model directory without model.safetensors, from its index: shard file name to the tensors the
   * index places there, in index order (shards in order of first mention). Each shard is checked to be a file inside
   * the directory that exists.
   */
  static LinkedHashMap<String, List<String>> shardIndex(Path dir) {
    Path index = dir.resolve(INDEX_FILE);
    if (!Files.isRegularFile(index)) {
      throw new RlsrException(dir + ": neither " + SINGLE_FILE + " nor " + INDEX_FILE + " found");
    }
    ObjectNode idx = StrictJson.readObject(index);
    JsonNode map = idx.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new RlsrException(index + ": missing key \"weight_map\" (an object of tensor name to shard file)");
    }
    Path base = dir.toAbsolutePath().normalize();
    LinkedHashMap<String, List<String>> byFile = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().isTextual() || e.getValue().textValue().isEmpty()) {
        throw new RlsrException(index + ": weight_map[\"" + e.getKey() + "\"] must be a shard file name, got "
            + e.getValue());
      }
      String shard = e.getValue().textValue();
      Path resolved = base.resolve(shard).normalize();
      if (Path.of(shard).isAbsolute() || !resolved.getParent().equals(base)) {
        throw new RlsrException(index + ": weight_map[\"" + e.getKey() + "\"] names shard \"" + shard
            + "\", which is not a file in the model directory");
      }
      byFile.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
    }
    for (var e : byFile.entrySet()) {
      if (!Files.isRegularFile(dir.resolve(e.getKey()))) {
        throw new RlsrException(index + ": shard \"" + e.getKey() + "\" named in weight_map (for tensor \""
            + e.getValue().get(0) + "\") is missing");
      }
    }
    return byFile;
  }

  static RlsrException notInShard(Path shard, String name) {
    return new RlsrException(shard + ": tensor \"" + name + "\" named in " + INDEX_FILE + " is not in the shard");
  }

  /** The safetensors format's limit on the JSON header (MAX_HEADER_SIZE of the reference implementation). */
  public static final long MAX_HEADER_SIZE = 100_000_000L;

  /** One tensor's header entry: offsets relative to the start of the data section. */
  record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  /** A validated header: its tensors in header order, its metadata, and where the data section starts. */
  record Header(List<Entry> entries, Map<String, String> metadata, long dataStart) {}

  /**
   * Reads every tensor of one safetensors file into fp32. The file is validated as strictly as the reference
   * implementation (the safetensors crate's {@code validate}) before any tensor is decoded: an 8-byte little-endian
   * header length N of at most {@link #MAX_HEADER_SIZE}; N bytes of UTF-8 JSON, one object, no duplicate names;
   * {@code __metadata__} maps strings to strings; each tensor has a dtype, a shape of non-negative integers and
   * {@code data_offsets [begin, end]} spanning exactly numel(shape) * dtype-size bytes; sorted by offset the tensors
   * tile the data section from byte 0 to its end without gap or overlap, so no byte is shared or left over.
   * Every refusal names the file and, where there is one, the tensor. {@link SafetensorsSource} validates the same
   * way and decodes a tensor only when it is read.
   */
  public static LinkedHashMap<String, FloatTensor> read(Path file) {
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = header(file, ch);
      for (Entry t : h.entries()) {
        long n = (t.end - t.begin) / t.dtype.bytes; // = numel(shape), checked in parseHeader
        ByteBuffer raw = ch.map(FileChannel.MapMode.READ_ONLY, h.dataStart() + t.begin, t.end - t.begin)
            .order(ByteOrder.LITTLE_ENDIAN);
        out.put(t.name, new FloatTensor(t.shape, decode(raw, t.dtype, (int) n)));
        NativeBuffers.free(raw); // unmapped now, not at some later collection
      }
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage(), e);
    }
    return out;
  }

  /** Reads and validates the header of an open file (see {@link #read}); no tensor data is touched. */
  static Header header(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new RlsrException(file + ": truncated (" + size + " bytes; a safetensors file starts with an 8-byte"
          + " header length)");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long headerLen = lenBuf.flip().getLong(); // u64: negative here means >= 2^63
    if (headerLen < 0 || headerLen > MAX_HEADER_SIZE) {
      throw new RlsrException(file + ": safetensors header of " + Long.toUnsignedString(headerLen)
          + " bytes exceeds the 100 MB limit (the file is corrupt or not a safetensors file)");
    }
    if (headerLen > size - 8) {
      throw new RlsrException(file + ": truncated or corrupt: the header length says " + headerLen
          + " bytes but the file has only " + (size - 8) + " bytes after the 8-byte length");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
    readFully(ch, hb, 8);
    long dataStart = 8 + headerLen;
    LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = parseHeader(file, hb.array(), metadata);
    checkLayout(file, entries, size - dataStart);
    for (Entry t : entries) {
      if ((t.end - t.begin) / t.dtype.bytes > Integer.MAX_VALUE) {
        throw new RlsrException(file + ": tensor \"" + t.name + "\" is too large for one array");
      }
    }
    return new Header(entries, metadata, dataStart);
  }

  /** The header's tensors, in header order, each entry's own fields checked. */
  private static List<Entry> parseHeader(Path file, byte[] headerBytes, Map<String, String> metadata) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(headerBytes)).toString();
    } catch (CharacterCodingException e) {
      throw new RlsrException(file + ": safetensors header is not valid UTF-8 (the file is corrupt)");
    }
    if (!text.startsWith("{")) {
      throw new RlsrException(file + ": safetensors header does not start with '{' (the file is corrupt or not a"
          + " safetensors file)");
    }
    JsonNode header;
    try {
      header = StrictJson.JSON.readTree(text);
    } catch (JsonProcessingException e) {
      String msg = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
      java.util.regex.Matcher dup = java.util.regex.Pattern.compile("^Duplicate field '(.*)'").matcher(msg);
      if (dup.find()) {
        throw new RlsrException(file + ": safetensors header names tensor \"" + dup.group(1) + "\" twice");
      }
      throw new RlsrException(file + ": safetensors header is not valid JSON: " + StrictJson.describe(e));
    }
    if (!header.isObject()) {
      throw new RlsrException(file + ": safetensors header must be a JSON object, got " + StrictJson.kind(header));
    }
    List<Entry> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      var e = it.next();
      String name = e.getKey();
      JsonNode info = e.getValue();
      if (name.equals("__metadata__")) {
        if (!info.isObject()) {
          throw new RlsrException(file + ": __metadata__ must be an object of strings, got " + StrictJson.kind(info));
        }
        info.fields().forEachRemaining(m -> {
          if (!m.getValue().isTextual()) {
            throw new RlsrException(file + ": __metadata__[\"" + m.getKey() + "\"] must be a string, got "
                + StrictJson.kind(m.getValue()));
          }
          metadata.put(m.getKey(), m.getValue().textValue());
        });
        continue;
      }
      String where = file + ": tensor \"" + name + "\"";
      if (!info.isObject()) {
        throw new RlsrException(where + ": expected {\"dtype\", \"shape\", \"data_offsets\"}, got "
            + StrictJson.kind(info));
      }
      JsonNode dt = info.get("dtype");
      if (dt == null || !dt.isTextual()) {
        throw new RlsrException(where + ": \"dtype\" must be a string, got " + StrictJson.kind(dt));
      }
      DType dtype;
      try {
        dtype = DType.valueOf(dt.textValue());
      } catch (IllegalArgumentException ex) {
        throw new RlsrException(where + " has dtype " + dt.textValue() + " (supported: F32, BF16, F16)");
      }
      JsonNode shapeNode = info.get("shape");
      if (shapeNode == null || !shapeNode.isArray()) {
        throw new RlsrException(where + ": \"shape\" must be a list of non-negative integers, got "
            + StrictJson.kind(shapeNode));
      }
      long[] shape = new long[shapeNode.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = nonNegative(shapeNode.get(i), where + ": shape[" + i + "]");
      }
      JsonNode off = info.get("data_offsets");
      if (off == null || !off.isArray() || off.size() != 2) {
        throw new RlsrException(where + ": \"data_offsets\" must be [begin, end], got "
            + (off == null ? "nothing" : off.toString()));
      }
      long begin = nonNegative(off.get(0), where + ": data_offsets[0]");
      long end = nonNegative(off.get(1), where + ": data_offsets[1]");
      if (end < begin) {
        throw new RlsrException(where + " has data_offsets [" + begin + ", " + end + "] that end before they begin");
      }
      long bytes;
      try {
        long numel = 1;
        for (long d : shape) {
          numel = Math.multiplyExact(numel, d);
        }
        bytes = Math.multiplyExact(numel, (long) dtype.bytes);
      } catch (ArithmeticException ex) {
        throw new RlsrException(where + " has a shape " + java.util.Arrays.toString(shape) + " too large to address");
      }
      if (end - begin != bytes) {
        throw new RlsrException(where + " has data_offsets [" + begin + ", " + end + "] (" + (end - begin)
            + " bytes) that do not fit its shape " + java.util.Arrays.toString(shape) + " and dtype " + dtype
            + " (" + bytes + " bytes)");
      }
      entries.add(new Entry(name, dtype, shape, begin, end));
    }
    return entries;
  }

  /** Sorted by offset, the tensors must tile {@code [0, dataLen)} exactly: no overlap, no gap, no trailing bytes. */
  private static void checkLayout(Path file, List<Entry> entries, long dataLen) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(java.util.Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long expected = 0;
    Entry prev = null;
    for (Entry t : sorted) {
      String at = "tensor \"" + t.name + "\" has data_offsets [" + t.begin + ", " + t.end + "]";
      if (t.begin < expected) {
        throw new RlsrException(file + ": " + at + ", overlapping tensor \"" + prev.name + "\" [" + prev.begin
            + ", " + prev.end + "] (corrupt file: tensors may not share bytes)");
      }
      if (t.begin > expected) {
        throw new RlsrException(file + ": " + at + ", leaving bytes " + expected + ".." + t.begin + " unused "
            + (prev == null ? "at the start of the data" : "after tensor \"" + prev.name + "\"")
            + " (corrupt file: tensors must be contiguous)");
      }
      expected = t.end;
      prev = t;
    }
    if (expected > dataLen) {
      throw new RlsrException(file + ": truncated: tensor \"" + prev.name + "\" ends at byte " + expected
          + " of the data but the file holds only " + dataLen + " data bytes");
    }
    if (expected < dataLen) {
      throw new RlsrException(file + ": " + (dataLen - expected) + " trailing bytes after the last tensor's data"
          + " (the header's tensors cover " + expected + " of " + dataLen + " data bytes; corrupt file)");
    }
  }

  private static long nonNegative(JsonNode v, String where) {
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
      throw new RlsrException(where + " must be a non-negative integer, got " + (v == null ? "nothing" : v.toString()));
    }
    return v.longValue();
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

  /**
   * Converts {@code n} values of {@code dtype} from {@code raw} (little-endian, from its position) to float32 into
   * {@code dst} at its position, advancing it by n; bf16 and f16 go through small chunks, never a tensor-sized array.
   */
  static void decodeInto(ByteBuffer raw, DType dtype, FloatBuffer dst, int n) {
    ByteBuffer le = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (dtype == DType.F32) {
      FloatBuffer src = le.asFloatBuffer();
      src.limit(n);
      dst.put(src);
      return;
    }
    java.nio.ShortBuffer src = le.asShortBuffer();
    int chunk = Math.min(n, 1 << 16);
    short[] bits = new short[chunk];
    float[] vals = new float[chunk];
    for (int at = 0; at < n; at += chunk) {
      int k = Math.min(chunk, n - at);
      src.get(bits, 0, k);
      if (dtype == DType.BF16) {
        for (int i = 0; i < k; i++) {
          vals[i] = Float.intBitsToFloat((bits[i] & 0xffff) << 16);
        }
      } else {
        for (int i = 0; i < k; i++) {
          vals[i] = halfToFloat(bits[i]);
        }
      }
      dst.put(vals, 0, k);
    }
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
   * The caller makes it atomic (see {@link Checkpoints}).
   */
  public static void write(Path file, Map<String, FloatTensor> tensors, DType dtype, Map<String, String> metadata)
      throws IOException {
    write(file, TensorSource.of(tensors), dtype, metadata);
  }

  /**
   * Writes the tensors of {@code source} to one safetensors file, in the order of its {@link TensorSource#shapes}, in
   * the given dtype, with string metadata in the header: the header first (it needs only the shapes), then one
   * tensor at a time, each read into one reused off-heap buffer the size of the largest tensor and written out, so
   * no more than one tensor is ever in memory here. The caller makes it atomic (see {@link Checkpoints}).
   */
  public static void write(Path file, TensorSource source, DType dtype, Map<String, String> metadata)
      throws IOException {
    LinkedHashMap<String, long[]> shapes = source.shapes();
    ObjectNode header = Json.MAPPER.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode md = header.putObject("__metadata__");
      metadata.forEach(md::put);
    }
    long offset = 0;
    long largest = 0;
    for (var e : shapes.entrySet()) {
      ObjectNode info = header.putObject(e.getKey());
      info.put("dtype", dtype.name());
      var sh = info.putArray("shape");
      for (long d : e.getValue()) {
        sh.add(d);
      }
      long numel = FloatTensor.numel(e.getValue());
      largest = Math.max(largest, numel);
      long len = numel * dtype.bytes;
      info.putArray("data_offsets").add(offset).add(offset + len);
      offset += len;
    }
    byte[] hdr = Json.MAPPER.writeValueAsBytes(header);
    int pad = (8 - (hdr.length % 8)) % 8; // data section 8-byte aligned, padded with spaces as HF does
    ByteBuffer head = ByteBuffer.allocate(8 + hdr.length + pad).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(hdr.length + pad).put(hdr);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    ByteBuffer stage = NativeBuffers.allocate(largest * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer narrow = dtype == DType.F32 ? null : ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      writeFully(ch, head.flip());
      for (var e : shapes.entrySet()) {
        int n = (int) FloatTensor.numel(e.getValue());
        stage.clear();
        FloatBuffer values = stage.asFloatBuffer();
        source.readInto(e.getKey(), values);
        if (values.position() != n) {
          throw new IllegalStateException("tensor " + e.getKey() + " gave " + values.position() + " values, its shape "
              + java.util.Arrays.toString(e.getValue()) + " has " + n);
        }
        if (narrow == null) {
          writeFully(ch, stage.limit(n * Float.BYTES));
          continue;
        }
        values.flip();
        while (values.hasRemaining()) {
          narrow.clear();
          while (values.hasRemaining() && narrow.remaining() >= 2) {
            float v = values.get();
            narrow.putShort(dtype == DType.BF16 ? toBf16(v) : floatToHalf(v));
          }
          writeFully(ch, narrow.flip());
        }
      }
    } finally {
      NativeBuffers.free(stage);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
