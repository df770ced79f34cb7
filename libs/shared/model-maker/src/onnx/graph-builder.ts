import { onnx } from 'onnx-proto';

const DataType = onnx.TensorProto.DataType;

/** A dimension: a fixed size or a symbolic name such as `batch_size`. */
export type Dim = number | string;

/** A weight: raw little-endian bytes plus its ONNX type and shape. */
export interface Initializer {
  name: string;
  dataType: onnx.TensorProto.DataType;
  dims: number[];
  bytes: Uint8Array;
}

/** Where large initializers go when a model uses ONNX external data. */
export interface ExternalDataWriter {
  write(bytes: Uint8Array): {
    location: string;
    offset: number;
    length: number;
  };
}

type AttributeValue = number | string | number[];

/** Minimal, order-preserving builder for an ONNX graph. */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  /** @param external when given, initializers of 1 KiB or more are written there instead of inline. */
  constructor(private readonly external?: ExternalDataWriter) {}

  input(
    name: string,
    elemType: onnx.TensorProto.DataType,
    dims: Dim[],
  ): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: onnx.TensorProto.DataType, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializer(init: Initializer): string {
    const tensor: onnx.ITensorProto = {
      name: init.name,
      dataType: init.dataType,
      dims: init.dims,
    };
    if (this.external && init.bytes.byteLength >= 1024) {
      const { location, offset, length } = this.external.write(init.bytes);
      tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      tensor.externalData = [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ];
    } else {
      tensor.rawData = init.bytes;
    }
    this.initializers.push(tensor);
    return init.name;
  }

  /** A small constant initializer (shapes, axes, scalars). */
  constInt64(
    name: string,
    values: number[],
    dims: number[] = [values.length],
  ): string {
    return this.initializer({
      name,
      dataType: DataType.INT64,
      dims,
      bytes: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
    });
  }

  /** A scalar of the float type `dataType` (FLOAT or FLOAT16), given as its raw bytes. */
  constScalar(
    name: string,
    dataType: onnx.TensorProto.DataType,
    bytes: Uint8Array,
  ): string {
    return this.initializer({ name, dataType, dims: [], bytes });
  }

  /** Adds a node; returns its output names (fresh ones unless `outputs` is given). */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttributeValue> = {},
    outputs?: string[] | number,
    name?: string,
  ): string[] {
    const outs = Array.isArray(outputs)
      ? outputs
      : Array.from(
          { length: outputs ?? 1 },
          (_, i) => `/${name ?? opType}_${this.counter}/out${i}`,
        );
    this.nodes.push({
      name: `/${name ?? opType}_${this.counter++}`,
      opType,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([key, value]) =>
        attribute(key, value),
      ),
    });
    return outs;
  }

  /** Single-output shorthand for {@link node}. */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    return this.node(
      opType,
      inputs,
      attrs,
      output === undefined ? 1 : [output],
    )[0];
  }
}

function valueInfo(
  name: string,
  elemType: onnx.TensorProto.DataType,
  dims: Dim[],
): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) =>
            typeof d === 'number' ? { dimValue: d } : { dimParam: d },
          ),
        },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string')
    return { name, type: Type.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: Type.INTS, ints: value };
  if (Number.isInteger(value) && !Object.is(value, -0))
    return { name, type: Type.INT, i: value };
  return { name, type: Type.FLOAT, f: value };
}
