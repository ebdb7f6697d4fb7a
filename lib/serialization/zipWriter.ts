// The zip layout torch.save writes (PyTorchStreamWriter over miniz): every
// record stored, not deflated, its bytes starting on a 64-byte boundary so a
// reader may map tensors straight from the file. The gap is a local extra
// field "FB" + length + 'Z' bytes, as miniz fills it for torch.
const ALIGNMENT = 64;
const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
// Without zip64 (which torch switches to past 4 GiB), sizes and offsets are 32-bit.
const LIMIT = 0xffffffff;
// 1980-01-01 00:00 in MS-DOS form: a fixed stamp, so equal state dicts give equal files.
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export interface ZipRecord {
  name: string;
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The whole archive as chunks to write in order (the records' own bytes are not copied). */
export function zipChunks(file: string, records: readonly ZipRecord[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  if (records.length >= 0xffff) throw new Error(`cannot write ${file}: ${records.length} records need zip64, which is not written`);
  for (const { name, data } of records) {
    const nameBytes = Buffer.from(name, "utf8");
    const start = offset + LOCAL_HEADER + nameBytes.length + 4;
    const pad = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
    if (data.length > LIMIT || start + pad + data.length > LIMIT) {
      throw new Error(`cannot write ${file}: past 4 GiB the zip format needs zip64, which is not written`);
    }
    const crc = crc32(data);
    const local = Buffer.alloc(LOCAL_HEADER + nameBytes.length + 4 + pad, "Z");
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(4 + pad, 28);
    nameBytes.copy(local, LOCAL_HEADER);
    local.write("FB", LOCAL_HEADER + nameBytes.length, "latin1");
    local.writeUInt16LE(pad, LOCAL_HEADER + nameBytes.length + 2);

    const entry = Buffer.alloc(CENTRAL_HEADER + nameBytes.length);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4); // made by: 2.0, MS-DOS attributes
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0, 8);
    entry.writeUInt16LE(0, 10);
    entry.writeUInt16LE(0, 12);
    entry.writeUInt16LE(DOS_DATE, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk, attributes: all zero
    entry.writeUInt32LE(offset, 42);
    nameBytes.copy(entry, CENTRAL_HEADER);

    chunks.push(local, data);
    central.push(entry);
    offset += local.length + data.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  if (offset + centralSize > LIMIT) throw new Error(`cannot write ${file}: past 4 GiB the zip format needs zip64, which is not written`);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(records.length, 8);
  end.writeUInt16LE(records.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  chunks.push(...central, end);
  return chunks;
}
