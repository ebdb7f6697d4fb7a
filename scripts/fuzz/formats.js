// Where the fields worth mutating lie in each seed file: the byte offsets of
// length and size fields (hot), and the spans of pickles (for opcode swaps).
// Plain CommonJS so that both the jest test and `npm run fuzz` can load it.
"use strict";

// Opcode -> how its argument is laid out, for protocols 0-5 as torch writes them.
const ARGS = {
  0x80: 1, 0x71: 1, 0x68: 1, 0x4b: 1, 0x4d: 2, 0x4a: 4, 0x72: 4, 0x6a: 4, 0x95: 8, 0x47: 8,
  0x8a: "u8", 0x8c: "u8", 0x43: "u8", 0x55: "u8", 0x58: "u32", 0x54: "u32", 0x42: "u32", 0x8b: "u32",
  0x8d: "u64", 0x8e: "u64", 0x63: "lines",
};
const NO_ARG = [0x2e, 0x7d, 0x5d, 0x29, 0x28, 0x74, 0x85, 0x86, 0x87, 0x6c, 0x64, 0x30, 0x31, 0x32, 0x94, 0x4e,
  0x88, 0x89, 0x93, 0x52, 0x81, 0x62, 0x73, 0x75, 0x61, 0x65, 0x51];
const OPCODES = [...NO_ARG, ...Object.keys(ARGS).map(Number)];

/** Opcode offsets of the pickle at `start`, the offsets of its length arguments, and its end. */
function scanPickle(bytes, start) {
  const ops = [], lengths = [];
  let pos = start;
  while (pos < bytes.length) {
    const op = bytes[pos];
    ops.push(pos);
    pos++;
    if (op === 0x2e) return { ops, lengths, end: pos };
    const arg = ARGS[op];
    if (arg === undefined) {
      if (!NO_ARG.includes(op)) return null;
    } else if (typeof arg === "number") {
      pos += arg;
    } else if (arg === "lines") {
      for (let i = 0; i < 2; i++) pos = bytes.indexOf(0x0a, pos) + 1;
    } else {
      lengths.push(pos);
      const n = arg === "u8" ? bytes[pos] : arg === "u32" ? bytes.readUInt32LE(pos) : Number(bytes.readBigUInt64LE(pos));
      pos += (arg === "u8" ? 1 : arg === "u32" ? 4 : 8) + n;
    }
  }
  return null;
}

function zipHints(bytes) {
  const hot = [], pickles = [];
  const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) return { hot, pickles };
  hot.push(end + 8, end + 10, end + 12, end + 16, end + 20);
  let cd = bytes.readUInt32LE(end + 16);
  for (let i = 0; i < bytes.readUInt16LE(end + 10); i++) {
    hot.push(cd + 20, cd + 24, cd + 28, cd + 30, cd + 42);
    const nameLength = bytes.readUInt16LE(cd + 28);
    const name = bytes.subarray(cd + 46, cd + 46 + nameLength).toString("latin1");
    const local = bytes.readUInt32LE(cd + 42);
    hot.push(local + 18, local + 22, local + 26, local + 28);
    if (name.endsWith("data.pkl")) {
      const data = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
      const scan = scanPickle(bytes, data);
      if (scan) pickles.push(scan);
    }
    cd += 46 + nameLength + bytes.readUInt16LE(cd + 30) + bytes.readUInt16LE(cd + 32);
  }
  return { hot, pickles };
}

function legacyHints(bytes) {
  const hot = [], pickles = [];
  let pos = 0;
  for (let i = 0; i < 5; i++) {
    const scan = scanPickle(bytes, pos);
    if (!scan) break;
    pickles.push(scan);
    pos = scan.end;
  }
  // Then each storage: an 8-byte element count and its bytes; the element size is not known here,
  // so only the first count is marked.
  if (pos + 8 <= bytes.length) hot.push(pos);
  return { hot, pickles };
}

function digitRuns(bytes, from, to) {
  const runs = [];
  for (let i = from; i < to; i++) {
    const digit = bytes[i] >= 0x30 && bytes[i] <= 0x39;
    const before = i > from && bytes[i - 1] >= 0x30 && bytes[i - 1] <= 0x39;
    if (digit && !before) runs.push(i);
  }
  return runs;
}

function safetensorsHints(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  return { hot: [0], pickles: [], numbers: digitRuns(bytes, 8, 8 + n) };
}

function bmpHints() {
  return { hot: [2, 10, 14, 18, 22, 26, 28, 30, 34, 46], pickles: [] };
}

function netpbmHints(bytes) {
  // The header is the first three numbers; the text formats' samples are numbers too.
  return { hot: [], pickles: [], numbers: digitRuns(bytes, 2, Math.min(bytes.length, 64)) };
}

function jpegHints(bytes) {
  const hot = [];
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1];
    hot.push(pos + 2);
    if (marker >= 0xc0 && marker <= 0xc2) hot.push(pos + 5, pos + 7); // height, width
    if (marker === 0xda) break; // entropy-coded data follows
    pos += 2 + bytes.readUInt16BE(pos + 2);
  }
  return { hot, pickles: [] };
}

const HINTS = { zip: zipHints, legacy: legacyHints, safetensors: safetensorsHints, bmp: bmpHints, pnm: netpbmHints, jpeg: jpegHints };

function hintsFor(kind, bytes) {
  return HINTS[kind](bytes);
}

module.exports = { hintsFor, scanPickle, OPCODES };
