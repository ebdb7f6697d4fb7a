// Promise wrappers over yauzl, enough to list a zip's entries and read them.
import { promises as fsp } from "fs";
import type { Readable } from "stream";
import * as yauzl from "yauzl";

export interface ZipArchive {
  entries: yauzl.Entry[];
  openStream(entry: yauzl.Entry): Promise<Readable>;
  read(entry: yauzl.Entry): Promise<Buffer>;
  /**
   * An entry's bytes, read straight from the file when it is stored (as
   * torch.save stores tensors): into `scratch` when it fits, which the caller
   * must then copy before reusing it. Deflated entries go through read().
   */
  readStored(entry: yauzl.Entry, scratch?: Buffer): Promise<Buffer>;
  close(): void;
}

export async function openZip(file: string): Promise<ZipArchive> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, z) => (err || !z ? reject(err) : resolve(z))),
  ).catch((err: Error) => {
    throw new Error(`${file}: not a readable zip archive (${err.message})`);
  });
  const entries: yauzl.Entry[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on("entry", (entry: yauzl.Entry) => {
        entries.push(entry);
        zip.readEntry();
      });
      zip.on("end", () => resolve());
      zip.on("error", reject);
      zip.readEntry();
    });
  } catch (err) {
    zip.close();
    const message = (err as Error).message;
    // yauzl itself refuses names that could escape a folder ("../x", "/x", "C:x", "a\\b") while listing.
    const unsafe = /^(?:invalid relative path|absolute path|invalid characters in fileName): (.*)$/s.exec(message);
    if (unsafe) throw new Error(`${file}: refusing zip entry ${JSON.stringify(unsafe[1])}: it would be written outside the target folder`);
    throw new Error(`${file}: not a readable zip archive (${message})`);
  }
  const openStream = (entry: yauzl.Entry) =>
    new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entry, (err, stream) =>
        err || !stream ? reject(new Error(`${file}: cannot read ${entry.fileName} (${err?.message})`)) : resolve(stream),
      ),
    );
  const read = async (entry: yauzl.Entry) => {
    const stream = await openStream(entry);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (err) {
      throw new Error(`${file}: cannot read ${entry.fileName} (${(err as Error).message})`);
    }
    return Buffer.concat(chunks);
  };
  let handle: fsp.FileHandle | null = null;
  const readStored = async (entry: yauzl.Entry, scratch?: Buffer) => {
    if (entry.compressionMethod !== 0 || entry.isEncrypted()) return read(entry);
    handle ??= await fsp.open(file, "r");
    const fail = (why: string) => new Error(`${file}: cannot read ${entry.fileName} (${why})`);
    const head = Buffer.alloc(30);
    if ((await handle.read(head, 0, 30, entry.relativeOffsetOfLocalHeader)).bytesRead !== 30 || head.readUInt32LE(0) !== 0x04034b50) {
      throw fail("invalid local file header");
    }
    const start = entry.relativeOffsetOfLocalHeader + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
    const size = entry.compressedSize;
    if (size !== entry.uncompressedSize) throw fail("stored entry with different compressed and uncompressed sizes");
    const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
    for (let got = 0; got < size; ) {
      const { bytesRead } = await handle.read(out, got, size - got, start + got);
      if (bytesRead === 0) throw fail("truncated file");
      got += bytesRead;
    }
    return out;
  };
  const close = () => {
    zip.close();
    handle?.close().catch(() => undefined);
    handle = null;
  };
  return { entries, openStream, read, readStored, close };
}
