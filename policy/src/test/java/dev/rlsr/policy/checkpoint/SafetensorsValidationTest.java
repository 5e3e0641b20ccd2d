// Damaged safetensors files are refused as strictly as the reference implementation (the safetensors crate's
// validate): overlapping, shifted or gapped data_offsets, trailing bytes, oversized or broken headers, wrong byte
// sizes, duplicate names. Each refusal names the file (and the tensor) and comes quickly, without a huge allocation;
// the lazy reader (SafetensorsSource) refuses each with the same message.
package dev.rlsr.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class SafetensorsValidationTest {
  @TempDir Path tmp;

  /** A file of the given header JSON (padded to 8 bytes with spaces) followed by {@code dataBytes} bytes. */
  private Path file(String name, String header, int dataBytes) throws Exception {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    int pad = (8 - h.length % 8) % 8;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length + pad).array());
    out.write(h);
    out.write(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII));
    byte[] data = new byte[dataBytes];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) i;
    }
    out.write(data);
    Path f = tmp.resolve(name);
    Files.write(f, out.toByteArray());
    return f;
  }

  /** Two F32 tensors a [4] and b [4] at the given offsets. */
  private static String two(long a0, long a1, long b0, long b1) {
    return "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + a0 + "," + a1 + "]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + b0 + "," + b1 + "]}}";
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(Path f) {
    long t0 = System.nanoTime();
    var a = assertThatThrownBy(() -> Safetensors.read(f)).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + ": ").hasNoCause();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    // the lazy reader refuses the same file with the same message (SafetensorsStreamingTest has the directory cases)
    Throwable eager = catchThrowable(() -> Safetensors.read(f));
    assertThat(catchThrowable(() -> SafetensorsSource.open(f).close())).isInstanceOf(RlsrException.class)
        .hasMessage(eager.getMessage());
    return a;
  }

  @Test
  void validFileLoads() throws Exception {
    Path f = file("ok.safetensors", "{\"__metadata__\":{\"format\":\"pt\"}," + two(0, 16, 16, 32).substring(1), 32);
    LinkedHashMap<String, FloatTensor> t = Safetensors.read(f);
    assertThat(t.keySet()).containsExactly("a", "b");
    assertThat(t.get("b").shape()).containsExactly(4);
    // a header listing b before a (offsets out of name order) is valid too
    Path swapped = file("swapped.safetensors", two(16, 32, 0, 16), 32);
    assertThat(Safetensors.read(swapped).keySet()).containsExactly("a", "b");
    // an empty tensor takes no bytes
    Path empty = file("empty.safetensors", "{\"e\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
        + "\"x\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
    assertThat(Safetensors.read(empty).get("e").data()).isEmpty();
  }

  @Test
  void writtenCheckpointStillLoads() throws Exception {
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.BF16, 1);
    assertThat(Safetensors.readModelDir(dir)).containsKey("model.embed_tokens.weight");
  }

  @Test
  void overlappingOffsetsAreRefused() throws Exception {
    // b shares a's bytes entirely; the file is long enough for both
    refused(file("overlap.safetensors", two(0, 16, 0, 16), 16))
        .hasMessageContaining("tensor \"b\"").hasMessageContaining("overlapping tensor \"a\"");
  }

  @Test
  void tensorShiftedIntoItsNeighbourIsRefused() throws Exception {
    // b starts 8 bytes inside a; the data section is as long as the header's last end
    refused(file("shifted.safetensors", two(0, 16, 8, 24), 24))
        .hasMessageContaining("tensor \"b\" has data_offsets [8, 24]").hasMessageContaining("overlapping tensor \"a\"");
  }

  @Test
  void gapBetweenTensorsIsRefused() throws Exception {
    refused(file("gap.safetensors", two(0, 16, 20, 36), 36))
        .hasMessageContaining("tensor \"b\"").hasMessageContaining("16..20 unused after tensor \"a\"");
    refused(file("late-start.safetensors", two(4, 20, 20, 36), 36))
        .hasMessageContaining("tensor \"a\"").hasMessageContaining("at the start of the data");
  }

  @Test
  void trailingBytesAreRefused() throws Exception {
    refused(file("trailing.safetensors", two(0, 16, 16, 32), 40))
        .hasMessageContaining("8 trailing bytes after the last tensor");
  }

  @Test
  void truncatedDataIsRefused() throws Exception {
    refused(file("short.safetensors", two(0, 16, 16, 32), 30))
        .hasMessageContaining("truncated").hasMessageContaining("tensor \"b\"");
  }

  @Test
  void headerOver100MbIsRefusedWithItsOwnMessage() throws Exception {
    Path f = tmp.resolve("huge-header.safetensors");
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(310_000_000L);
    b.put("{\"a\":".getBytes(StandardCharsets.US_ASCII));
    Files.write(f, b.array()); // 64 bytes on disk: the claim alone is refused
    refused(f).hasMessageContaining("header of 310000000 bytes exceeds the 100 MB limit")
        .hasMessageNotContaining("truncated");
    ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L); // u64 max
    Path g = Files.write(tmp.resolve("u64max.safetensors"), neg.array());
    refused(g).hasMessageContaining("header of 18446744073709551615 bytes exceeds the 100 MB limit");
  }

  @Test
  void headerLongerThanTheFileIsRefused() throws Exception {
    Path f = tmp.resolve("cut-header.safetensors");
    ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
    b.put("{\"a\":{}}".getBytes(StandardCharsets.US_ASCII));
    Files.write(f, b.array());
    refused(f).hasMessageContaining("truncated or corrupt").hasMessageContaining("header length says 1000 bytes");
  }

  @Test
  void badHeaderJsonIsRefused() throws Exception {
    refused(file("badjson.safetensors", "{\"a\":{\"dtype\":\"F32\",", 0)).hasMessageContaining("not valid JSON");
    refused(file("after.safetensors", two(0, 16, 16, 32) + "{}", 32)).hasMessageContaining("not valid JSON");
    refused(file("array.safetensors", "[1,2]", 0)).hasMessageContaining("does not start with '{'");
    Path f = tmp.resolve("latin1.safetensors");
    byte[] h = "{\"caf\u00e9\":1}   ".getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
    Files.write(f, b.array());
    refused(f).hasMessageContaining("not valid UTF-8");
  }

  @Test
  void byteSizeThatDoesNotFitTheShapeIsRefused() throws Exception {
    refused(file("size.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16))
        .hasMessageContaining("tensor \"a\"").hasMessageContaining("[2, 3]").hasMessageContaining("24 bytes");
    refused(file("neg.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16))
        .hasMessageContaining("tensor \"a\": shape[0] must be a non-negative integer, got -4");
    refused(file("float.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4.0],\"data_offsets\":[0,16]}}", 16))
        .hasMessageContaining("shape[0] must be a non-negative integer, got 4.0");
    refused(file("dtype.safetensors", "{\"a\":{\"dtype\":\"Q4\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4))
        .hasMessageContaining("tensor \"a\" has dtype Q4");
    refused(file("offs.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16]}}", 16))
        .hasMessageContaining("\"data_offsets\" must be [begin, end]");
    refused(file("backw.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,0]}}", 16))
        .hasMessageContaining("end before they begin");
  }

  @Test
  void duplicateTensorNameIsRefused() throws Exception {
    String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
        + "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}";
    refused(file("dup.safetensors", h, 32)).hasMessageContaining("names tensor \"a\" twice");
  }

  @Test
  void metadataMustMapStringsToStrings() throws Exception {
    refused(file("md.safetensors", "{\"__metadata__\":{\"step\":3}," + two(0, 16, 16, 32).substring(1), 32))
        .hasMessageContaining("__metadata__[\"step\"] must be a string");
    refused(file("md2.safetensors", "{\"__metadata__\":[]," + two(0, 16, 16, 32).substring(1), 32))
        .hasMessageContaining("__metadata__ must be an object");
  }

  @Test
  void shardedIndexProblemsAreNamed() throws Exception {
    Path dir = TinyCheckpoints.writeSharded(tmp.resolve("s"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    Path index = dir.resolve(Safetensors.INDEX_FILE);
    ObjectNode idx = (ObjectNode) Json.MAPPER.readTree(index.toFile());
    ObjectNode map = (ObjectNode) idx.get("weight_map");
    String shard1 = map.elements().next().asText();

    ObjectNode extra = idx.deepCopy();
    ((ObjectNode) extra.get("weight_map")).put("model.layers.9.mlp.up_proj.weight", shard1);
    Json.MAPPER.writeValue(index.toFile(), extra);
    assertThatThrownBy(() -> Safetensors.readModelDir(dir)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(dir.resolve(shard1).toString())
        .hasMessageContaining("tensor \"model.layers.9.mlp.up_proj.weight\" named in " + Safetensors.INDEX_FILE
            + " is not in the shard");

    ObjectNode gone = idx.deepCopy();
    ((ObjectNode) gone.get("weight_map")).put("model.norm.weight", "model-00009-of-00009.safetensors");
    Json.MAPPER.writeValue(index.toFile(), gone);
    assertThatThrownBy(() -> Safetensors.readModelDir(dir)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(index.toString())
        .hasMessageContaining("shard \"model-00009-of-00009.safetensors\"").hasMessageContaining("is missing");

    ObjectNode outside = idx.deepCopy();
    ((ObjectNode) outside.get("weight_map")).put("model.norm.weight", "../elsewhere.safetensors");
    Json.MAPPER.writeValue(index.toFile(), outside);
    assertThatThrownBy(() -> Safetensors.readModelDir(dir)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("not a file in the model directory");

    ObjectNode typed = idx.deepCopy();
    ((ObjectNode) typed.get("weight_map")).put("model.norm.weight", 3);
    Json.MAPPER.writeValue(index.toFile(), typed);
    assertThatThrownBy(() -> Safetensors.readModelDir(dir)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("weight_map[\"model.norm.weight\"] must be a shard file name, got 3");

    String text = Json.MAPPER.writeValueAsString(idx);
    Files.writeString(index, text.replace("\"weight_map\":{", "\"weight_map\":{\"model.norm.weight\":\"x\","));
    assertThatThrownBy(() -> Safetensors.readModelDir(dir)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(index.toString()).hasMessageContaining("Duplicate field 'model.norm.weight'");

    Json.MAPPER.writeValue(index.toFile(), idx);
    assertThat(Safetensors.readModelDir(dir)).hasSize(map.size());
    assertThat(Map.copyOf(Safetensors.readModelDir(dir))).containsKey("model.norm.weight");
  }
}
