// A file's bytes for the readers: mapped where the platform allows, so that
// storages become tensors over the mapping without a copy (as
// torch.load(mmap=True) does), and read into memory where it does not.
import * as fs from "fs";
import { addon, NativeMappedFile } from "../native";

export interface FileBytes {
  bytes: Uint8Array;
  /** The mapping behind `bytes`; null when the file was read into memory. */
  map: NativeMappedFile | null;
}

/**
 * `file` mapped, or null where it cannot be (an empty file, a file system or
 * platform without mmap): not the file's fault, so the caller reads it instead
 * and that read reports what is wrong with it.
 */
export async function mapFileBytes(file: string): Promise<FileBytes | null> {
  const map = await addon.mapFile(file).catch(() => null);
  if (!map) return null;
  try {
    return { bytes: map.bytes(), map };
  } catch {
    // A runtime that refuses external ArrayBuffers (V8's sandbox, as in Electron).
    map.close();
    return null;
  }
}

/** Maps `file`, or with `mmap` false or where mapping fails, reads it whole. */
export async function fileBytes(file: string, mmap: boolean): Promise<FileBytes> {
  return (mmap ? await mapFileBytes(file) : null) ?? { bytes: await fs.promises.readFile(file), map: null };
}

/**
 * Ends the JavaScript view of a mapping: `bytes` and every view of it become
 * empty. Tensors made over the mapping keep it until the last is freed.
 */
export function releaseFileBytes(source: FileBytes): void {
  source.map?.close();
}

/** Where `storage` starts in the mapped file, or null when it is not a view of the mapping. */
export function mappedOffset(source: FileBytes | undefined, storage: Uint8Array): number | null {
  if (!source?.map || storage.buffer !== source.bytes.buffer) return null;
  return storage.byteOffset - source.bytes.byteOffset;
}
