// A deliberately small unpickler: it understands the opcodes torch.save emits
// for a state dict and builds plain data. Globals come only from an allow-list
// and are never looked up or called in any general way, so a file cannot make
// us run anything.
import type { DtypeName } from "../native";

/** What torch._utils._rebuild_tensor_v2 would have built, before any bytes are read. */
export interface TensorRef {
  readonly kind: "tensor";
  readonly storage: unknown;
  readonly storageOffset: number;
  readonly size: number[];
  readonly stride: number[];
}

/** A dict or OrderedDict; BUILD may attach attributes such as `_metadata`, kept apart. */
export class PyDict extends Map<unknown, unknown> {
  readonly attributes = new Map<string, unknown>();
}

class Global {
  constructor(readonly module: string, readonly name: string) {}
}

const STORAGE_DTYPES: Record<string, DtypeName> = {
  FloatStorage: "float32", DoubleStorage: "float64", HalfStorage: "float16", BFloat16Storage: "bfloat16",
  LongStorage: "int64", IntStorage: "int32", ShortStorage: "int16", CharStorage: "int8", ByteStorage: "uint8",
  BoolStorage: "bool",
};

const ALLOWED = new Set(["collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
  ...Object.keys(STORAGE_DTYPES).map((n) => `torch.${n}`)]);

export interface UnpickleOptions {
  /** Named in every error. */
  fileName: string;
  /** Turns a BINPERSID id (a tuple) into a value; without it BINPERSID is refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past STOP, where a following pickle would start. */
  end: number;
}

const MARK = Symbol("mark");

function isSafe(n: bigint): boolean {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
}

function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  // Through one hex string: shifting a BigInt byte by byte is quadratic in a LONG4's length.
  let n = BigInt("0x" + Buffer.from(bytes).reverse().toString("hex"));
  if (bytes[bytes.length - 1] & 0x80) n -= 1n << BigInt(8 * bytes.length);
  return isSafe(n) ? Number(n) : n;
}

function asIntList(value: unknown): number[] | null {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "number" && Number.isInteger(v))) return null;
  return value as number[];
}

/** Unpickles one pickle starting at `offset` of `data`. */
export function unpickle(data: Uint8Array, options: UnpickleOptions, offset = 0): UnpickleResult {
  const file = options.fileName;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const latin1 = new TextDecoder("latin1");
  let pos = offset;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (what: string): Error => new Error(`${file}: ${what} (pickle offset ${pos})`);
  const need = (n: number): number => {
    if (n < 0 || pos + n > data.length) throw new Error(`${file}: truncated data: the pickle ends early at byte ${data.length}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => data[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const n = view.getBigUint64(need(8), true);
    if (!isSafe(n)) throw fail("length too large");
    return Number(n);
  };
  const bytes = (n: number) => data.subarray(need(n), pos);
  const text = (n: number) => {
    const b = bytes(n);
    try {
      return utf8.decode(b);
    } catch {
      throw fail("invalid UTF-8 string");
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new Error(`${file}: truncated data: the pickle ends early at byte ${data.length}`);
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw fail("malformed pickle: stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw fail("malformed pickle: stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (previous === undefined) throw fail("malformed pickle: no MARK");
    stack = previous;
    return items;
  };
  const global = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) throw new Error(`refusing global ${full} in ${file}: only state-dict contents are allowed`);
    return new Global(module, name);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global)) throw fail("malformed pickle: REDUCE on something that is not a global");
    if (!Array.isArray(args)) throw fail("malformed pickle: REDUCE arguments are not a tuple");
    if (fn.module === "collections" && fn.name === "OrderedDict") {
      if (args.length !== 0) throw fail("OrderedDict built with arguments is not supported");
      return new PyDict();
    }
    if (fn.name === "_rebuild_tensor_v2") return rebuildTensor(args);
    throw fail(`${fn.module}.${fn.name} cannot be called`);
  };
  const rebuildTensor = (args: unknown[]): TensorRef => {
    const [storage, storageOffset, size, stride] = args;
    const sizes = asIntList(size), strides = asIntList(stride);
    if (args.length < 4 || typeof storageOffset !== "number" || !sizes || !strides || sizes.length !== strides.length) {
      throw fail("malformed _rebuild_tensor_v2 arguments");
    }
    return { kind: "tensor", storage, storageOffset, size: sizes, stride: strides };
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) throw fail("malformed pickle: SETITEM on something that is not a dict");
    if (items.length % 2 !== 0) throw fail("malformed pickle: odd number of SETITEMS values");
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const append = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list) || Object.isFrozen(list)) throw fail("malformed pickle: APPEND on something that is not a list");
    // One by one: spreading a long APPENDS into push() overflows the call stack.
    for (const item of items) list.push(item);
  };
  const tuple = (items: unknown[]) => Object.freeze(items);

  for (;;) {
    const opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO: any version; unknown opcodes fail below anyway
      case 0x95: u64(); break; // FRAME: framing is only a read hint
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length !== 0) throw fail("malformed pickle: STOP with a stack that is not one value");
        return { value: stack[0], end: pos };
      }
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x74: { const items = popMark(); stack.push(tuple(items)); break; } // TUPLE
      case 0x85: { const a = pop(); stack.push(tuple([a])); break; } // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x64: { const items = popMark(); const d = new PyDict(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw fail(`malformed pickle: memo entry ${key} is missing`);
        stack.push(memo.get(key));
        break;
      }
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(bytes(u8()))); break; // LONG1
      case 0x8b: stack.push(decodeLong(bytes(u32()))); break; // LONG4
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT is big-endian
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x54: stack.push(latin1.decode(bytes(u32()))); break; // BINSTRING (Python 2 str)
      case 0x55: stack.push(latin1.decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(bytes(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(u64()).slice()); break; // BINBYTES8
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") throw fail("malformed pickle: STACK_GLOBAL needs two strings");
        stack.push(global(module, name));
        break;
      }
      case 0x52: case 0x81: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE, NEWOBJ
      case 0x62: { // BUILD
        const state = pop();
        const target = top();
        // An OrderedDict's state is its __dict__ (torch puts `_metadata` there); nothing else is built.
        if (!(target instanceof PyDict)) throw fail("malformed pickle: BUILD on something that is not a dict");
        if (state instanceof Map) for (const [k, v] of state) target.attributes.set(String(k), v);
        else if (state !== null) throw fail("malformed pickle: BUILD with a state that is not a dict");
        break;
      }
      case 0x73: { const value = pop(), key = pop(); setItems(top(), [key, value]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x61: { const value = pop(); append(top(), [value]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) throw fail("malformed pickle: unexpected persistent id");
        stack.push(options.persistentLoad(pid));
        break;
      }
      default:
        pos = opAt;
        throw fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")}`);
    }
  }
}

/** The global torch.XStorage seen as a persistent id's storage type, or null. */
export function storageDtype(value: unknown): DtypeName | null {
  if (value instanceof Global && value.module === "torch" && value.name in STORAGE_DTYPES) return STORAGE_DTYPES[value.name];
  return null;
}
