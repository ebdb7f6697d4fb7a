// The file walk of torchvision's make_dataset: sorted(os.walk(dir, followlinks=True)),
// then each folder's files sorted, all by Unicode code point as Python compares.
import * as fs from "fs";

/** Compares strings by code point; JS's `<` compares UTF-16 units, which orders astral characters before U+E000..U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

// Moves surrogates above the rest of the BMP, so that a pair (> U+FFFF) sorts after any BMP unit.
function fixup(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

/** os.path.join for POSIX paths, without normalising as path.join would. */
export function pyJoin(a: string, b: string): string {
  return a === "" || a.endsWith("/") ? a + b : `${a}/${b}`;
}

/** Every file under `dir` (following links), in torchvision's order. */
export function walkFiles(dir: string): string[] {
  const folders: [string, string[]][] = [];
  const visit = (folder: string, ancestors: Set<string>) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(folder, { withFileTypes: true });
    } catch {
      return; // os.walk ignores folders it cannot list
    }
    const files: string[] = [], subfolders: string[] = [];
    for (const entry of entries) {
      const full = pyJoin(folder, entry.name);
      (isDirectory(entry, full) ? subfolders : files).push(entry.name);
    }
    folders.push([folder, files]);
    for (const name of subfolders) {
      const full = pyJoin(folder, name);
      // A link back to an ancestor would recurse forever; Python stops only at ELOOP.
      const real = realpath(full);
      if (real === null || ancestors.has(real)) continue;
      visit(full, new Set(ancestors).add(real));
    }
  };
  const root = realpath(dir);
  visit(dir, new Set(root === null ? [] : [root]));
  folders.sort((x, y) => compareCodePoints(x[0], y[0]));
  return folders.flatMap(([folder, files]) => files.sort(compareCodePoints).map((f) => pyJoin(folder, f)));
}

function isDirectory(entry: fs.Dirent, full: string): boolean {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return fs.statSync(full).isDirectory();
  } catch {
    return false; // a broken link is listed as a file, as os.walk does
  }
}

function realpath(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}
