// Decodes every file once, several at a time, and lists those that fail with
// why, so a scraped data set is cleaned in one pass rather than one run per file.
import * as os from "os";
import { checkInteger, invalid } from "../check";
import { decodeImage } from "./decode";

export interface BadImage {
  file: string;
  reason: string;
}

export interface CheckImagesOptions {
  /** Files decoded at once; the decoders run on libuv's pool and libvips' threads. */
  concurrency?: number;
  /** Called after each file, in completion order. */
  onChecked?: (file: string, bad: BadImage | null) => void;
}

/** The files that do not decode, in the order they were given, each with its reason. */
export async function checkImages(files: readonly string[], options: CheckImagesOptions = {}): Promise<BadImage[]> {
  if (!Array.isArray(files) || !files.every((f) => typeof f === "string")) throw invalid("array of file paths", "files", files);
  const concurrency = checkInteger(options.concurrency ?? Math.max(4, os.availableParallelism()), "concurrency", 1);
  const results: (BadImage | null)[] = new Array(files.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        await decodeImage(files[i]);
      } catch (err) {
        results[i] = { file: files[i], reason: reasonOf(files[i], err) };
      }
      options.onChecked?.(files[i], results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return results.filter((r): r is BadImage => r !== null);
}

// decodeImage's messages begin "Could not decode image FILE: "; the list names the file once.
function reasonOf(file: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const prefix = `Could not decode image ${file}: `;
  return (message.startsWith(prefix) ? message.slice(prefix.length) : message).split("\n")[0];
}
