// A file appears whole or not at all: the bytes go to a temporary file in the
// same folder, are flushed to disk, and the temporary file is renamed over the
// target, so a reader (or a crash) never sees half a model.
import * as fs from "fs";
import * as nodePath from "path";

export async function writeChunksAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const dir = nodePath.dirname(nodePath.resolve(path));
  const temp = nodePath.join(dir, `.${nodePath.basename(path)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const handle = await fs.promises.open(temp, "w");
    try {
      for (const chunk of chunks) {
        for (let done = 0; done < chunk.length;) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, path);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw new Error(`cannot write ${path}: ${(err as Error).message}`);
  }
}
