// Our own reading of a zip archive held in memory (a mapping of the file):
// the central directory, synchronously, and each entry's bytes, stored ones
// as views without a copy. yauzl (zipReader.ts) reads archives from files; over
// a mapping its one callback per record costs more than reading the state dict.
// Every record is bounds-checked before it is read, and the claims that
// zipReader.ts refuses are refused here with the same messages.
import * as zlib from "zlib";

export interface ZipDirectoryEntry {
  fileName: string;
  /** 0 stored, 8 deflated. */
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  encrypted: boolean;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

class Cursor {
  readonly view: DataView;

  constructor(private readonly file: string, private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(why: string): Error {
    return new Error(`${this.file}: not a readable zip archive (${why})`);
  }

  /** Throws unless [start, end) lies in the archive; offsets may come from 64-bit fields. */
  need(start: number | bigint, length: number | bigint): number {
    const s = BigInt(start);
    const e = s + BigInt(length);
    if (s < 0n || e > BigInt(this.bytes.length)) throw this.fail(`a read of bytes ${s} to ${e} is outside the file (${this.bytes.length} bytes)`);
    return Number(s);
  }

  u16(at: number): number {
    return this.view.getUint16(this.need(at, 2), true);
  }

  u32(at: number): number {
    return this.view.getUint32(this.need(at, 4), true);
  }

  u64(at: number): bigint {
    return this.view.getBigUint64(this.need(at, 8), true);
  }

  slice(at: number, length: number): Uint8Array {
    const s = this.need(at, length);
    return this.bytes.subarray(s, s + length);
  }
}

function findEndRecord(c: Cursor, size: number): number {
  // The record is 22 bytes followed by a comment of at most 65535.
  for (let at = size - 22; at >= Math.max(0, size - 22 - 0xffff); at--) {
    if (c.view.getUint32(at, true) === EOCD) return at;
  }
  throw c.fail("end of central directory record signature not found");
}

// The zip64 extra field holds, in this order, whichever of the 32-bit fields are saturated.
function zip64Fields(c: Cursor, extraStart: number, extraLength: number, wanted: { usize: boolean; csize: boolean; offset: boolean }) {
  const out: { usize?: bigint; csize?: bigint; offset?: bigint } = {};
  for (let at = extraStart; at + 4 <= extraStart + extraLength; ) {
    const id = c.u16(at);
    const length = c.u16(at + 2);
    if (id === 0x0001) {
      let p = at + 4;
      const take = () => {
        if (p + 8 > at + 4 + length) throw c.fail("zip64 extended information extra field is too short");
        const v = c.u64(p);
        p += 8;
        return v;
      };
      if (wanted.usize) out.usize = take();
      if (wanted.csize) out.csize = take();
      if (wanted.offset) out.offset = take();
      return out;
    }
    at += 4 + length;
  }
  throw c.fail("a size or offset is 0xffffffff but the entry has no zip64 extended information");
}

function checkName(file: string, name: string): void {
  // yauzl's rules, which zipReader.ts reports this way.
  const why = name.includes("\\") ? "invalid characters in fileName"
    : /^[a-zA-Z]:/.test(name) || name.startsWith("/") ? "absolute path"
    : name.split("/").includes("..") ? "invalid relative path" : null;
  if (why) throw new Error(`${file}: refusing zip entry ${JSON.stringify(name)}: it would be written outside the target folder`);
}

const safeNumber = (c: Cursor, v: bigint, what: string): number => {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw c.fail(`${what} ${v} is too large`);
  return Number(v);
};

/** The archive's entries, in central directory order, each checked against the archive's size. */
export function readZipDirectory(file: string, bytes: Uint8Array): ZipDirectoryEntry[] {
  const c = new Cursor(file, bytes);
  const size = bytes.length;
  if (size < 22) throw c.fail("end of central directory record signature not found");
  const end = findEndRecord(c, size);
  if (c.u16(end + 4) !== 0 || c.u16(end + 6) !== 0) throw c.fail("multi-disk zip files are not supported");
  let count: number | bigint = c.u16(end + 10);
  let cdOffset: number | bigint = c.u32(end + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || c.u32(end + 12) === 0xffffffff) {
    if (end < 20 || c.u32(end - 20) !== ZIP64_LOCATOR) throw c.fail("zip64 end of central directory locator signature not found");
    const record = c.need(c.u64(end - 20 + 8), 56);
    if (c.u32(record) !== ZIP64_EOCD) throw c.fail("zip64 end of central directory record signature not found");
    count = c.u64(record + 32);
    cdOffset = c.u64(record + 48);
  }
  let at = c.need(cdOffset, 0);
  // Each record is at least 46 bytes: a count the directory cannot hold is a lie.
  if (BigInt(count) * 46n > BigInt(size - at)) throw c.fail(`the central directory claims ${count} entries, more than fit in the file`);
  const entries: ZipDirectoryEntry[] = [];
  for (let i = 0; i < Number(count); i++) {
    if (c.u32(at) !== CENTRAL) throw c.fail(`invalid central directory file header signature: 0x${c.u32(at).toString(16)}`);
    const flags = c.u16(at + 8);
    const method = c.u16(at + 10);
    const csize32 = c.u32(at + 20);
    const usize32 = c.u32(at + 24);
    const nameLength = c.u16(at + 28);
    const extraLength = c.u16(at + 30);
    const commentLength = c.u16(at + 32);
    const offset32 = c.u32(at + 42);
    const nameBytes = c.slice(at + 46, nameLength);
    c.need(at + 46 + nameLength, extraLength + commentLength);
    // Bit 11: the name is UTF-8; otherwise CP437, which agrees with latin1 on the ASCII that torch.save writes.
    const fileName = Buffer.from(nameBytes.buffer, nameBytes.byteOffset, nameBytes.byteLength).toString(flags & 0x800 ? "utf8" : "latin1");
    checkName(file, fileName);
    let usize: number | bigint = usize32, csize: number | bigint = csize32, offset: number | bigint = offset32;
    if (usize32 === 0xffffffff || csize32 === 0xffffffff || offset32 === 0xffffffff) {
      const z = zip64Fields(c, at + 46 + nameLength, extraLength, { usize: usize32 === 0xffffffff, csize: csize32 === 0xffffffff, offset: offset32 === 0xffffffff });
      usize = z.usize ?? usize;
      csize = z.csize ?? csize;
      offset = z.offset ?? offset;
    }
    const entry: ZipDirectoryEntry = {
      fileName,
      compressionMethod: method,
      compressedSize: safeNumber(c, BigInt(csize), "compressed size"),
      uncompressedSize: safeNumber(c, BigInt(usize), "uncompressed size"),
      localHeaderOffset: safeNumber(c, BigInt(offset), "local header offset"),
      encrypted: (flags & 1) !== 0,
    };
    // The same claims zipReader.ts refuses before anything is allocated from them.
    const claim = (why: string) => new Error(`${file}: zip entry ${JSON.stringify(fileName)} ${why}`);
    if (entry.localHeaderOffset + 30 + entry.compressedSize > size) {
      throw claim(`claims ${entry.compressedSize} bytes at offset ${entry.localHeaderOffset}, past the end of the file (${size} bytes)`);
    }
    if (method === 0 && entry.compressedSize !== entry.uncompressedSize) {
      throw claim(`is stored but claims ${entry.compressedSize} bytes stored and ${entry.uncompressedSize} uncompressed`);
    }
    // Deflate expands at most 1032 times (258-byte matches coded in 2 bits).
    if (method === 8 && entry.uncompressedSize > entry.compressedSize * 1032 + 1032) {
      throw claim(`claims ${entry.uncompressedSize} bytes from ${entry.compressedSize} deflated, more than deflate can give`);
    }
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** An entry's compressed bytes, after its local header (whose name and extra lengths may differ from the directory's). */
function entryData(file: string, bytes: Uint8Array, entry: ZipDirectoryEntry): Uint8Array {
  const c = new Cursor(file, bytes);
  const fail = (why: string) => new Error(`${file}: cannot read ${entry.fileName} (${why})`);
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || c.u32(at) !== LOCAL) throw fail("invalid local file header");
  const start = at + 30 + c.u16(at + 26) + c.u16(at + 28);
  if (start + entry.compressedSize > bytes.length) throw fail("truncated file");
  return bytes.subarray(start, start + entry.compressedSize);
}

/**
 * An entry's bytes: a view of `bytes` when it is stored (as torch.save stores
 * everything), else inflated off the JavaScript thread into a new Buffer.
 */
export async function readZipEntry(file: string, bytes: Uint8Array, entry: ZipDirectoryEntry): Promise<Uint8Array> {
  const fail = (why: string) => new Error(`${file}: cannot read ${entry.fileName} (${why})`);
  if (entry.encrypted) throw fail("it is encrypted");
  const data = entryData(file, bytes, entry);
  if (entry.compressionMethod === 0) return data;
  if (entry.compressionMethod !== 8) throw fail(`unsupported compression method ${entry.compressionMethod}`);
  const out = await new Promise<Buffer>((resolve, reject) =>
    zlib.inflateRaw(data, { maxOutputLength: Math.max(1, entry.uncompressedSize) }, (err, result) => (err ? reject(fail(err.message)) : resolve(result))));
  if (out.length !== entry.uncompressedSize) throw fail(`inflated to ${out.length} bytes, not the ${entry.uncompressedSize} its directory claims`);
  return out;
}
