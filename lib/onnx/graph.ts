// An ONNX graph under construction: named values with their shapes, nodes in
// order, and the model's weights as initializers under their state-dict names.
// Every helper in layers.ts adds through here, so the shapes written to
// value_info are the ones each op computes, and onnx.checker's strict shape
// inference would catch a helper that got one wrong.
import * as os from "os";
import { ATTR, FLOAT, INT64 } from "./proto";

/** A dimension: a size, or a symbolic name ("batch"). */
export type Dim = number | string;

/** A state-dict entry as the exporter reads it: float32 values, row-major. */
export interface Weight {
  dims: number[];
  data: Float32Array;
}

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

interface Node {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

const LITTLE_ENDIAN = os.endianness() === "LE";

function floatBytes(data: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = Buffer.alloc(data.length * 4);
  data.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

function int64Bytes(values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => out.writeBigInt64LE(BigInt(v), i * 8));
  return out;
}

function attribute(name: string, value: AttrValue): Record<string, unknown> {
  if (typeof value === "string") return { name, type: ATTR.STRING, s: Buffer.from(value, "utf8") };
  if (Array.isArray(value)) return { name, type: ATTR.INTS, ints: value };
  if (typeof value === "number") return { name, type: ATTR.INT, i: value };
  if ("float" in value) return { name, type: ATTR.FLOAT, f: value.float };
  return { name, type: ATTR.FLOATS, floats: value.floats };
}

function valueInfo(name: string, shape: Dim[], elemType = FLOAT): Record<string, unknown> {
  const dim = shape.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

export class Graph {
  private readonly nodes: Node[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly shapes = new Map<string, Dim[]>();
  /** Values that are not float32 (a Shape's int64 output); the rest are float32. */
  private readonly int64Values = new Set<string>();
  private readonly inputs: string[] = [];
  private readonly used = new Set<string>();
  private readonly opCounts = new Map<string, number>();

  constructor(private readonly weights: Map<string, Weight>, readonly opset: number) {}

  /** The graph's input: an NCHW float image batch. */
  input(name: string, shape: Dim[]): string {
    this.shapes.set(name, shape);
    this.inputs.push(name);
    return name;
  }

  shape(value: string): Dim[] {
    const shape = this.shapes.get(value);
    if (!shape) throw new Error(`internal error: ONNX value ${value} is not defined`);
    return shape;
  }

  has(key: string): boolean {
    return this.weights.has(key);
  }

  /** A state-dict entry as an initializer named by its key; the model must have it. */
  weight(key: string): string {
    const w = this.weights.get(key);
    if (!w) throw new Error(`cannot export: the model has no ${key} (is its module tree torchvision's?)`);
    if (!this.used.has(key)) {
      this.used.add(key);
      this.initializers.push({ name: key, dims: w.dims, data_type: FLOAT, raw_data: floatBytes(w.data) });
      this.shapes.set(key, w.dims);
    }
    return key;
  }

  dims(key: string): number[] {
    this.weight(key);
    return this.weights.get(key)!.dims;
  }

  /** Marks an entry the eval graph does not read (BatchNorm's num_batches_tracked) as accounted for. */
  skip(key: string): void {
    if (this.weights.has(key)) this.used.add(key);
  }

  /** A float constant of our own (a GELU's 0.5, a LayerNorm's epsilon). */
  constant(hint: string, dims: number[], values: number[]): string {
    const name = this.unique(`const.${hint}`);
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: floatBytes(Float32Array.from(values)) });
    this.shapes.set(name, dims);
    return name;
  }

  /** An int64 constant: a vector, or a scalar with `scalar` (a Gather index). */
  constantInt64(hint: string, values: number[], scalar = false): string {
    const name = this.unique(`const.${hint}`);
    const dims = scalar ? [] : [values.length];
    this.initializers.push({ name, dims, data_type: INT64, raw_data: int64Bytes(values) });
    this.shapes.set(name, dims);
    return name;
  }

  /** Like node(), for an op whose output is int64 (Shape, and what slices it). */
  int64Node(op: string, inputs: string[], shape: Dim[], attrs: Record<string, AttrValue> = {}, hint = op.toLowerCase()): string {
    const output = this.node(op, inputs, shape, attrs, hint);
    this.int64Values.add(output);
    return output;
  }

  /** Adds a node with one output of the given shape; returns the output's name. */
  node(op: string, inputs: string[], shape: Dim[], attrs: Record<string, AttrValue> = {}, hint = op.toLowerCase()): string {
    for (const input of inputs) if (input !== "") this.shape(input);
    const output = this.unique(hint);
    this.nodes.push({
      op_type: op,
      name: this.unique(`${op}_node`),
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    this.shapes.set(output, shape);
    return output;
  }

  /** State-dict keys no node read: a module the exporter does not know, which would silently change the model. */
  unused(): string[] {
    return [...this.weights.keys()].filter((key) => !this.used.has(key));
  }

  /** The GraphProto, its single output renamed to `outputName`. */
  toProto(name: string, output: string, outputName: string): Record<string, unknown> {
    const last = this.nodes.find((n) => n.output[0] === output);
    if (!last) throw new Error(`internal error: ${output} is not a node's output`);
    last.output[0] = outputName;
    const outputShape = this.shape(output);
    const intermediate = this.nodes.map((n) => n.output[0]).filter((v) => v !== outputName);
    return {
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs.map((v) => valueInfo(v, this.shape(v))),
      output: [valueInfo(outputName, outputShape)],
      value_info: intermediate.map((v) => valueInfo(v, this.shape(v), this.int64Values.has(v) ? INT64 : FLOAT)),
    };
  }

  private unique(hint: string): string {
    const n = this.opCounts.get(hint) ?? 0;
    this.opCounts.set(hint, n + 1);
    return n === 0 && !this.shapes.has(hint) ? hint : `${hint}_${n}`;
  }
}
