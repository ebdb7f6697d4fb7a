// An ONNX file's metadata_props without decoding its graph: a scan of the
// ModelProto's top-level fields that skips the (large) graph's bytes.
import * as protobuf from "protobufjs";

// Field numbers in onnx.proto: ModelProto.metadata_props, StringStringEntryProto.key and .value.
const METADATA_PROPS = 14;
const KEY = 1;
const VALUE = 2;
const LENGTH_DELIMITED = 2;

/** metadata_props as key to value; throws when the bytes are not a protobuf message. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === METADATA_PROPS && (tag & 7) === LENGTH_DELIMITED) {
      const entry = protobuf.Reader.create(reader.bytes());
      let key = "";
      let value = "";
      while (entry.pos < entry.len) {
        const t = entry.uint32();
        if (t >>> 3 === KEY && (t & 7) === LENGTH_DELIMITED) key = entry.string();
        else if (t >>> 3 === VALUE && (t & 7) === LENGTH_DELIMITED) value = entry.string();
        else entry.skipType(t & 7);
      }
      out[key] = value;
    } else {
      reader.skipType(tag & 7);
    }
  }
  return out;
}
