// Extracts a zip archive into a folder, refusing any entry that would land
// outside it (zip slip: "../x", absolute paths, drive letters).
import * as fs from "fs";
import * as path from "path";
import { pipeline } from "stream/promises";
import { openZip } from "../serialization/zipReader";

function target(root: string, name: string, archive: string): string {
  const unsafe = name.startsWith("/") || name.startsWith("\\") || /^[a-zA-Z]:/.test(name) || name.includes("\0");
  const dest = path.resolve(root, name.replace(/\\/g, "/"));
  if (unsafe || (dest !== root && !dest.startsWith(root + path.sep))) {
    throw new Error(`${archive}: refusing zip entry ${JSON.stringify(name)}: it would be written outside ${root}`);
  }
  return dest;
}

/** Extracts every entry of `archive` under `dir` (created if needed). Checks all names before writing any. */
export async function extractZip(archive: string, dir: string): Promise<void> {
  const root = path.resolve(dir);
  const zip = await openZip(archive);
  try {
    const plan = zip.entries.map((entry) => ({ entry, dest: target(root, entry.fileName, archive) }));
    await fs.promises.mkdir(root, { recursive: true });
    for (const { entry, dest } of plan) {
      if (entry.fileName.endsWith("/")) {
        await fs.promises.mkdir(dest, { recursive: true });
        continue;
      }
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await pipeline(await zip.openStream(entry), fs.createWriteStream(dest));
    }
  } finally {
    zip.close();
  }
}
