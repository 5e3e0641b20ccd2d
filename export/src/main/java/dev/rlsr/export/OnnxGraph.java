// The one place that builds ONNX protobuf messages: initializers, nodes with unique names, typed inputs/outputs,
// metadata. The policy exporter describes the network through it and never touches OnnxMl builders directly.
package dev.rlsr.export;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.rlsr.policy.model.FloatTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph under construction with a pinned opset of the default ONNX domain. Node names double as their
 * (single) output names, so the graph reads like the code that built it; a name used twice is a bug and throws.
 */
final class OnnxGraph {
  /** ONNX IR version matching opset 17 (ONNX 1.12). */
  static final long IR_VERSION = 8;

  private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
  private final Set<String> names = new HashSet<>();       // values: inputs, initializers, node outputs
  private final Set<String> nodeNames = new HashSet<>();
  private final long opset;

  OnnxGraph(String name, long opset) {
    this.opset = opset;
    graph.setName(name);
  }

  // ---------------------------------------------------------------- inputs and outputs

  /** A graph input; each dim is a Long (fixed) or a String (named dynamic dim). */
  String input(String name, TensorProto.DataType type, Object... dims) {
    claim(name);
    graph.addInput(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Makes the initializer {@code name} (declared before, float32 of {@code shape}) also a graph input: its values
   * are then a default that a caller may override by feeding the input (ONNX IR >= 4; ONNX Runtime lists such inputs
   * among a session's overridable initializers, not its required inputs).
   */
  String overridableInput(String name, long[] shape) {
    if (!names.contains(name)) {
      throw new IllegalStateException("overridable input " + name + " has no initializer yet");
    }
    Object[] dims = new Object[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = shape[i];
    }
    graph.addInput(valueInfo(name, TensorProto.DataType.FLOAT, dims));
    return name;
  }

  /** Declares an already produced value (node output) as a graph output with its type and shape. */
  void output(String name, TensorProto.DataType type, Object... dims) {
    if (!names.contains(name)) {
      throw new IllegalStateException("graph output " + name + " is produced by no node");
    }
    graph.addOutput(valueInfo(name, type, dims));
  }

  private static OnnxMl.ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
    OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
    for (Object d : dims) {
      OnnxMl.TensorShapeProto.Dimension.Builder dim = OnnxMl.TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String s) {
        dim.setDimParam(s);
      } else if (d instanceof Number n) {
        dim.setDimValue(n.longValue());
      } else {
        throw new IllegalArgumentException("dim must be a String or a number: " + d);
      }
      shape.addDim(dim);
    }
    OnnxMl.TypeProto.Tensor.Builder tensor = OnnxMl.TypeProto.Tensor.newBuilder()
        .setElemType(type.getNumber()).setShape(shape);
    return OnnxMl.ValueInfoProto.newBuilder().setName(name)
        .setType(OnnxMl.TypeProto.newBuilder().setTensorType(tensor)).build();
  }

  // ---------------------------------------------------------------- initializers

  /** A float32 initializer whose bytes live in the proto. */
  String weight(String name, FloatTensor t) {
    claim(name);
    graph.addInitializer(TensorProto.newBuilder().setName(name)
        .setDataType(TensorProto.DataType.FLOAT.getNumber())
        .addAllDims(longs(t.shape()))
        .setRawData(littleEndian(t.data())));
    return name;
  }

  /**
   * An initializer of {@code type} with its name and dims but no data yet: for a writer that streams the raw_data of
   * each such initializer after the graph (see {@code OnnxPolicyExporter.writeModel}); not loadable as it is.
   */
  String tensorHeader(String name, TensorProto.DataType type, long[] dims) {
    claim(name);
    graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(type.getNumber()).addAllDims(longs(dims)));
    return name;
  }

  /**
   * An initializer of {@code type} declared EXTERNAL: its {@code length} bytes are at {@code offset} in
   * {@code location} (relative to the model file). ONNX Runtime reads that file, or takes the values from
   * {@code SessionOptions.addExternalInitializers}, in which case the file need not exist.
   */
  String externalTensor(String name, TensorProto.DataType type, long[] dims, String location, long offset,
      long length) {
    claim(name);
    graph.addInitializer(TensorProto.newBuilder().setName(name)
        .setDataType(type.getNumber())
        .addAllDims(longs(dims))
        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(entry("location", location))
        .addExternalData(entry("offset", Long.toString(offset)))
        .addExternalData(entry("length", Long.toString(length))));
    return name;
  }

  /** A small int8 constant of zeros (always inside the proto), e.g. a symmetric quantization's zero points. */
  String constInt8Zeros(String name, long... dims) {
    claim(name);
    long n = FloatTensor.numel(dims);
    graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT8.getNumber())
        .addAllDims(longs(dims)).setRawData(ByteString.copyFrom(new byte[Math.toIntExact(n)])));
    return name;
  }

  /** A small float32 constant (always inside the proto), shape given explicitly ({} for a scalar). */
  String constFloats(String name, long[] shape, float... values) {
    return weight(name, new FloatTensor(shape, values));
  }

  /** A small int64 constant (always inside the proto), shape given explicitly ({} for a scalar). */
  String constLongs(String name, long[] shape, long... values) {
    claim(name);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name)
        .setDataType(TensorProto.DataType.INT64.getNumber()).addAllDims(longs(shape));
    for (long v : values) {
      t.addInt64Data(v);
    }
    graph.addInitializer(t);
    return name;
  }

  /** A 1-D int64 constant, the usual form of shapes and axes. */
  String shapeConst(String name, long... values) {
    return constLongs(name, new long[] {values.length}, values);
  }

  // ---------------------------------------------------------------- nodes

  /** Adds node {@code name} of type {@code opType}; its single output is also called {@code name}. */
  String node(String name, String opType, String[] inputs, AttributeProto... attributes) {
    return nodeMulti(name, opType, inputs, new String[] {name}, attributes)[0];
  }

  /** Adds a node with several outputs {@code name:0, name:1, ...}. */
  String[] node(String name, String opType, String[] inputs, int outputs, AttributeProto... attributes) {
    String[] out = new String[outputs];
    for (int i = 0; i < outputs; i++) {
      out[i] = name + ":" + i;
    }
    return nodeMulti(name, opType, inputs, out, attributes);
  }

  /**
   * Adds node {@code name} of ONNX Runtime's contrib domain ({@value #MS_DOMAIN}: MatMulNBits, DynamicQuantizeMatMul),
   * whose opset the model then imports; its single output is also called {@code name}.
   */
  String msNode(String name, String opType, String[] inputs, AttributeProto... attributes) {
    usesMsDomain = true;
    return nodeMulti(name, MS_DOMAIN, opType, inputs, new String[] {name}, attributes)[0];
  }

  /** ONNX Runtime's contrib operator domain, and the opset of it a model imports when it uses one. */
  static final String MS_DOMAIN = "com.microsoft";
  static final long MS_OPSET = 1;
  private boolean usesMsDomain;

  private String[] nodeMulti(String name, String opType, String[] inputs, String[] outputs, AttributeProto... attributes) {
    return nodeMulti(name, "", opType, inputs, outputs, attributes);
  }

  private String[] nodeMulti(String name, String domain, String opType, String[] inputs, String[] outputs,
      AttributeProto... attributes) {
    NodeProto.Builder n = NodeProto.newBuilder().setName(name).setOpType(opType);
    if (!domain.isEmpty()) {
      n.setDomain(domain);
    }
    for (String in : inputs) {
      if (!names.contains(in)) {
        throw new IllegalStateException("node " + name + " reads " + in + ", which is not defined yet");
      }
      n.addInput(in);
    }
    claimNode(name);
    for (String out : outputs) {
      claim(out);
      n.addOutput(out);
    }
    for (AttributeProto a : attributes) {
      n.addAttribute(a);
    }
    graph.addNode(n);
    return outputs;
  }

  static String[] in(String... names) {
    return names;
  }

  static AttributeProto attr(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  static AttributeProto attrFloat(String name, float value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
  }

  static AttributeProto attrInts(String name, long... values) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  // ---------------------------------------------------------------- the model

  /** Wraps the graph into a model: pinned opset, producer, and string metadata in insertion order. */
  OnnxMl.ModelProto model(String producerName, String producerVersion, LinkedHashMap<String, String> metadata) {
    OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .setProducerName(producerName)
        .setProducerVersion(producerVersion)
        .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(graph);
    if (usesMsDomain) {
      m.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(MS_OPSET));
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      m.addMetadataProps(entry(e.getKey(), e.getValue()));
    }
    return m.build();
  }

  // ---------------------------------------------------------------- helpers

  private void claim(String name) {
    if (!names.add(name)) {
      throw new IllegalStateException("ONNX value name used twice: " + name);
    }
  }

  private void claimNode(String name) {
    if (!nodeNames.add(name)) {
      throw new IllegalStateException("ONNX node name used twice: " + name);
    }
  }

  private static OnnxMl.StringStringEntryProto entry(String key, String value) {
    return OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  private static Iterable<Long> longs(long[] values) {
    List<Long> l = new ArrayList<>(values.length);
    for (long v : values) {
      l.add(v);
    }
    return l;
  }

  /** float32 values as the little-endian bytes ONNX raw_data and external data files hold. */
  static ByteString littleEndian(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return ByteString.copyFrom(b.array());
  }
}
