// ONNX's own schema (proto/onnx.proto, vendored from ONNX 1.12), read once and
// used to encode a ModelProto: the bytes are protobufjs's, the graph is ours.
import * as fs from "fs";
import * as path from "path";
import * as protobuf from "protobufjs";

// The same relative path from lib/onnx (ts-jest) and dist/onnx (the package).
const SCHEMA = path.resolve(__dirname, "../../proto/onnx.proto");

let modelType: protobuf.Type | undefined;

function model(): protobuf.Type {
  if (!modelType) {
    // keepCase: the messages below use ONNX's field names (raw_data, opset_import) as the schema spells them.
    const root = protobuf.parse(fs.readFileSync(SCHEMA, "utf8"), { keepCase: true }).root;
    modelType = root.lookupType("onnx.ModelProto");
  }
  return modelType;
}

/** TensorProto.DataType and AttributeProto.AttributeType values used here. */
export const FLOAT = 1;
export const INT64 = 7;
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** Encodes a ModelProto given as a plain object with ONNX's field names; throws when the object does not fit the schema. */
export function encodeModel(message: Record<string, unknown>): Uint8Array {
  const type = model();
  const problem = type.verify(message);
  if (problem) throw new Error(`internal error: the ONNX model does not fit onnx.proto: ${problem}`);
  return type.encode(type.fromObject(message)).finish();
}

/** Decodes a ModelProto (for reading metadata back); field names as in onnx.proto. */
export function decodeModel(bytes: Uint8Array): Record<string, any> {
  const type = model();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Buffer, defaults: false }) as Record<string, any>;
}
