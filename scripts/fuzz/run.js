// Runs fuzz cases against our parsers and says, for each, whether it broke the
// rule: a mutated file is either read or refused with an Error that names it.
// Never a crash (that ends the process), a hang, an unchecked RangeError, an
// error without the file's name, or an allocation past what the file's own
// size claims allow.
"use strict";
const fs = require("fs");
const path = require("path");
const { mutate } = require("./mutate");

// Allowed whatever the file's size: yauzl reads a zip's directory record (46
// bytes and three 16-bit lengths: name, extra field, comment) into a buffer of
// the size those lengths claim before it finds them past the file's end.
const ZIP_SLACK = 46 + 3 * 0xffff;
// Messages of failures that no check caught: V8's bounds and allocation errors.
const UNCHECKED = /outside the bounds|Invalid typed array length|Invalid array length|Maximum call stack|Array buffer allocation failed|bad_alloc|out of memory|is not a function|Cannot read propert|is not iterable/i;

/** Records the largest Buffer asked for while `fn` runs (typed arrays are checked on the results). */
async function trackingAllocations(fn) {
  const originals = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  let largest = 0;
  for (const [name, original] of Object.entries(originals)) {
    Buffer[name] = function (size, ...rest) {
      if (typeof size === "number" && size > largest) largest = size;
      return original.call(this, size, ...rest);
    };
  }
  try {
    return { outcome: await fn(), largest };
  } catch (err) {
    return { error: err, largest };
  } finally {
    Object.assign(Buffer, originals);
  }
}

async function runOne(lib, target, file, bytes) {
  if (target === "pickle") return lib.unpickle(bytes, { fileName: file, persistentLoad: (pid) => pid });
  if (target === "image") return lib.decodeImage(file);
  const sd = await lib.load(file);
  const sizes = [...sd.values()].map((t) => t.shape.reduce((a, b) => a * b, 1));
  for (const t of sd.values()) t.dispose();
  return { tensors: sizes };
}

/** What was wrong with this case's outcome, or null. */
function problem(lib, target, file, size, { outcome, error, largest }) {
  const allowed = target === "image" ? Math.max(size + ZIP_SLACK, lib.MAX_IMAGE_PIXELS * 3) : size + ZIP_SLACK;
  if (largest > allowed) return `allocated a Buffer of ${largest} bytes from a file of ${size}`;
  if (error !== undefined) {
    if (!(error instanceof Error)) return `threw a non-Error: ${String(error)}`;
    if (!error.message.includes(file)) return `error does not name the file: ${error.message}`;
    if (UNCHECKED.test(error.message)) return `failure no check caught: ${error.message}`;
    return null;
  }
  if (target === "image") {
    const { width, height, data } = outcome;
    if (width * height > lib.MAX_IMAGE_PIXELS || data.length !== width * height * 3) return `decoded to ${width}x${height} with ${data.length} bytes`;
  }
  if (target === "load") {
    const most = Math.max(size, lib.MAX_OVERLAPPING_NUMEL);
    if (outcome.tensors.some((n) => n > most)) return `made a tensor of ${Math.max(...outcome.tensors)} elements from a file of ${size} bytes`;
  }
  return null;
}

/**
 * Runs cases [from, from + count) of run `seed` over `seeds`, one at a time,
 * in `dir`. `lib`: { load, decodeImage, unpickle, MAX_IMAGE_PIXELS,
 * MAX_OVERLAPPING_NUMEL }. `beforeCase(info)` is called before each case runs
 * (the soak script uses it to know which case a crash hit).
 */
async function runCases({ lib, seeds, seed, from = 0, count, dir, beforeCase }) {
  const stats = { cases: 0, read: 0, refused: 0, failures: [], bySeed: {} };
  for (let index = from; index < from + count; index++) {
    const s = seeds[index % seeds.length];
    const { bytes, how } = mutate(s.bytes, s.hints, seed, index);
    const file = path.join(dir, `case-${seed}-${index}${s.ext}`);
    fs.writeFileSync(file, bytes);
    if (beforeCase) beforeCase({ seed, index, seedFile: s.name, how, file });
    const result = await trackingAllocations(() => runOne(lib, s.target, file, bytes));
    const wrong = problem(lib, s.target, file, bytes.length, result);
    stats.cases++;
    if (result.error === undefined) stats.read++;
    else stats.refused++;
    const per = (stats.bySeed[s.name] ??= { cases: 0, refused: 0 });
    per.cases++;
    if (result.error !== undefined) per.refused++;
    if (wrong) stats.failures.push({ seed, index, seedFile: s.name, how, problem: wrong, file });
    else fs.rmSync(file, { force: true });
  }
  return stats;
}

module.exports = { runCases };
