// Promise wrappers over yauzl, enough to list a zip's entries and read them.
import * as fs from "fs";
import { promises as fsp } from "fs";
import { PassThrough, Readable } from "stream";
import * as yauzl from "yauzl";

// yauzl reads the file through this. A zip64 record holds 64-bit offsets, and
// one past 2^53 makes fs.read throw inside a callback, where nothing catches
// it and the process ends (found by fuzzing); here any read outside the file
// fails as an error of the archive instead.
class FileReader extends yauzl.RandomAccessReader {
  constructor(private readonly fd: number, private readonly size: number) {
    super();
  }

  private outside(start: number, end: number): Error | null {
    if (start >= 0 && end >= start && end <= this.size) return null;
    return new Error(`a read of bytes ${start} to ${end} is outside the file (${this.size} bytes)`);
  }

  _readStreamForRange(start: number, end: number): Readable {
    const err = this.outside(start, end);
    if (err) {
      const failed = new PassThrough();
      setImmediate(() => failed.destroy(err));
      return failed;
    }
    // Not fs.createReadStream, which closes the shared descriptor when destroyed.
    const fd = this.fd;
    let position = start;
    return new Readable({
      read(size) {
        const n = Math.min(size, end - position);
        if (n <= 0) return void this.push(null);
        const chunk = Buffer.allocUnsafe(n);
        fs.read(fd, chunk, 0, n, position, (error, bytesRead) => {
          if (error) return void this.destroy(error);
          if (bytesRead === 0) return void this.destroy(new Error("unexpected end of file"));
          position += bytesRead;
          this.push(chunk.subarray(0, bytesRead));
        });
      },
    });
  }

  read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    const err = this.outside(position, position + length);
    if (err) return void setImmediate(() => callback(err));
    fs.read(this.fd, buffer, offset, length, position, (error, bytesRead) => callback(error, bytesRead));
  }

  close(callback: (err: Error | null) => void): void {
    fs.close(this.fd, callback);
  }
}

async function openArchive(file: string): Promise<{ zip: yauzl.ZipFile; fileSize: number }> {
  // A plain descriptor, not a FileHandle: the reader closes it when yauzl is done.
  const fd = await new Promise<number>((resolve, reject) => fs.open(file, "r", (err, n) => (err ? reject(err) : resolve(n))));
  return new Promise((resolve, reject) => {
    // Before a ZipFile exists nothing else will close the file.
    const fail = (err: Error) => fs.close(fd, () => reject(err));
    fs.fstat(fd, (statError, stats) => {
      if (statError) return fail(statError);
      yauzl.fromRandomAccessReader(new FileReader(fd, stats.size), stats.size, { lazyEntries: true, autoClose: false }, (err, zip) =>
        err || !zip ? fail(err ?? new Error("no archive")) : resolve({ zip, fileSize: stats.size }));
    });
  });
}

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
  const { zip, fileSize } = await openArchive(file).catch((err: Error) => {
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
  // The central directory's size claims are checked before anything is
  // allocated from them: a flipped bit there must not ask for gigabytes.
  for (const entry of entries) {
    const claim = (why: string) => {
      zip.close();
      return new Error(`${file}: zip entry ${JSON.stringify(entry.fileName)} ${why}`);
    };
    if (entry.relativeOffsetOfLocalHeader + 30 + entry.compressedSize > fileSize) {
      throw claim(`claims ${entry.compressedSize} bytes at offset ${entry.relativeOffsetOfLocalHeader}, past the end of the file (${fileSize} bytes)`);
    }
    if (entry.compressionMethod === 0 && entry.compressedSize !== entry.uncompressedSize) {
      throw claim(`is stored but claims ${entry.compressedSize} bytes stored and ${entry.uncompressedSize} uncompressed`);
    }
    // Deflate expands at most 1032 times (258-byte matches coded in 2 bits).
    if (entry.compressionMethod === 8 && entry.uncompressedSize > entry.compressedSize * 1032 + 1032) {
      throw claim(`claims ${entry.uncompressedSize} bytes from ${entry.compressedSize} deflated, more than deflate can give`);
    }
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
