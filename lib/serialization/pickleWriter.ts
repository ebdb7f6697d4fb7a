// Writes pickle opcodes the way Python's pickle.Pickler does at protocol 2:
// the same opcode for each value, and a memo entry (BINPUT) after each
// string, tuple, global and reduced object, so that a value Python would pickle
// once and then refer to (BINGET) is written the same way here.
const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINUNICODE: 0x58, GLOBAL: 0x63,
  BINPUT: 0x71, LONG_BINPUT: 0x72, BINGET: 0x68, LONG_BINGET: 0x6a, NEWFALSE: 0x89,
  REDUCE: 0x52, BINPERSID: 0x51, SETITEM: 0x73, SETITEMS: 0x75,
} as const;

export class PickleWriter {
  private readonly chunks: Buffer[] = [];
  private memoSize = 0;
  /** Values Python would pickle as one object, by a key the caller chooses. */
  private readonly shared = new Map<string, number>();

  constructor() {
    this.op(OP.PROTO, 2);
  }

  op(...bytes: number[]): void {
    this.chunks.push(Buffer.from(bytes));
  }

  private put(): void {
    const index = this.memoSize++;
    if (index < 256) this.op(OP.BINPUT, index);
    else this.u32(OP.LONG_BINPUT, index);
  }

  private get(index: number): void {
    if (index < 256) this.op(OP.BINGET, index);
    else this.u32(OP.LONG_BINGET, index);
  }

  private u32(op: number, n: number): void {
    const b = Buffer.alloc(5);
    b[0] = op;
    b.writeUInt32LE(n, 1);
    this.chunks.push(b);
  }

  /** Writes a value once; later calls with the same key refer back to it. */
  private once(key: string, write: () => void): void {
    const index = this.shared.get(key);
    if (index !== undefined) return this.get(index);
    write();
    this.shared.set(key, this.memoSize);
    this.put();
  }

  int(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`cannot pickle ${n}: not a safe integer`);
    if (n >= 0 && n <= 0xff) return this.op(OP.BININT1, n);
    if (n >= 0 && n <= 0xffff) return this.op(OP.BININT2, n & 0xff, n >> 8);
    if (n >= -0x80000000 && n <= 0x7fffffff) {
      const b = Buffer.alloc(5);
      b[0] = OP.BININT;
      b.writeInt32LE(n, 1);
      return void this.chunks.push(b);
    }
    // LONG1: little-endian two's complement in the fewest bytes, as pickle.encode_long.
    const big = BigInt(n);
    const bitLength = (big < 0n ? -big - 1n : big).toString(2).length;
    const count = (bitLength >> 3) + 1;
    const bytes: number[] = [];
    let rest = BigInt.asUintN(count * 8, big);
    for (let i = 0; i < count; i++, rest >>= 8n) bytes.push(Number(rest & 0xffn));
    if (big < 0n && count > 1 && bytes[count - 1] === 0xff && bytes[count - 2] & 0x80) bytes.pop();
    this.op(OP.LONG1, bytes.length, ...bytes);
  }

  /** A str; `shared` marks one Python would hold as a single object (a literal), memoised once. */
  str(s: string, shared = false): void {
    const write = () => {
      const body = Buffer.from(s, "utf8");
      const head = Buffer.alloc(5);
      head[0] = OP.BINUNICODE;
      head.writeUInt32LE(body.length, 1);
      this.chunks.push(head, body);
    };
    if (shared) return this.once(`str:${s}`, write);
    write();
    this.put();
  }

  /** A module-level name; Python memoises the object, so its second use is a BINGET. */
  global(module: string, name: string): void {
    this.once(`global:${module}.${name}`, () => this.chunks.push(Buffer.from(`c${module}\n${name}\n`, "latin1")));
  }

  /** A tuple of `length` values written by `items`. */
  tuple(length: number, items: () => void): void {
    if (length === 0) return this.op(OP.EMPTY_TUPLE);
    if (length > 3) this.op(OP.MARK);
    items();
    this.op(length > 3 ? OP.TUPLE : OP.TUPLE1 + length - 1);
    this.put();
  }

  /** `callable(*args)`, the callable and argument tuple written by `write`; the result is memoised. */
  reduce(write: () => void): void {
    write();
    this.op(OP.REDUCE);
    this.put();
  }

  /** A persistent id (a tuple written by `write`), resolved by the loader's persistent_load. */
  persistentId(write: () => void): void {
    write();
    this.op(OP.BINPERSID);
  }

  false(): void {
    this.op(OP.NEWFALSE);
  }

  /** Sets items on the dict on top of the stack, 1000 to a batch as Python does. */
  setItems<T>(items: readonly T[], write: (item: T) => void): void {
    for (let i = 0; i < items.length; i += 1000) {
      const batch = items.slice(i, i + 1000);
      if (batch.length > 1) this.op(OP.MARK);
      batch.forEach(write);
      this.op(batch.length > 1 ? OP.SETITEMS : OP.SETITEM);
    }
  }

  finish(): Buffer {
    this.op(OP.STOP);
    return Buffer.concat(this.chunks);
  }
}
