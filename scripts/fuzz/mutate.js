// Seeded mutations of a real file: bit flips, interesting bytes, truncation,
// cut or repeated chunks, size fields set to edge values, numbers in text
// headers replaced, and pickle opcodes swapped, deleted or repeated. The same
// (seed, case) always gives the same bytes, so every finding can be replayed.
"use strict";
const { OPCODES } = require("./formats");

/** mulberry32: small, fast and good enough to pick mutations. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)] };
}

const EDGE_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const EDGE_NUMBERS = ["0", "1", "4294967295", "4294967296", "9007199254740993", "65536", "99999999999999999999", "-1"];

function flipBits(b, r) {
  for (let i = 1 + r.int(8); i > 0; i--) b[r.int(b.length)] ^= 1 << r.int(8);
  return ["flip", b];
}

function interestingBytes(b, r) {
  for (let i = 1 + r.int(4); i > 0; i--) b[r.int(b.length)] = r.pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0x0a, 0x2e, 0x28]);
  return ["bytes", b];
}

function truncate(b, r) {
  // Mostly near the end, where a cut file usually ends, sometimes anywhere.
  const at = r.next() < 0.5 ? b.length - 1 - r.int(Math.min(b.length, 64)) : r.int(b.length);
  return [`truncate@${at}`, b.subarray(0, Math.max(0, at))];
}

function chunk(b, r) {
  const from = r.int(b.length), length = 1 + r.int(Math.min(256, b.length - from));
  const part = b.subarray(from, from + length);
  if (r.next() < 0.5) return [`cut@${from}+${length}`, Buffer.concat([b.subarray(0, from), b.subarray(from + length)])];
  return [`repeat@${from}+${length}`, Buffer.concat([b.subarray(0, from + length), part, b.subarray(from + length)])];
}

function sizeField(b, r, hints) {
  if (hints.hot.length === 0) return flipBits(b, r);
  const at = r.pick(hints.hot);
  if (at + 4 > b.length) return flipBits(b, r);
  const old = b.readUInt32LE(at);
  const value = r.pick([...EDGE_32, old + 1, Math.max(0, old - 1), (old * 2) >>> 0, b.length, b.length + 1]) >>> 0;
  if (r.next() < 0.3) b.writeUInt16LE(value & 0xffff, at);
  else b.writeUInt32LE(value, at);
  return [`size@${at}=${value}`, b];
}

function textNumber(b, r, hints) {
  if (!hints.numbers || hints.numbers.length === 0) return sizeField(b, r, hints);
  const at = r.pick(hints.numbers);
  let end = at;
  while (end < b.length && b[end] >= 0x30 && b[end] <= 0x39) end++;
  const value = r.pick([...EDGE_NUMBERS, String(Number(b.subarray(at, end).toString("latin1")) + 1), "0".repeat(40) + "7"]);
  return [`number@${at}=${value}`, Buffer.concat([b.subarray(0, at), Buffer.from(value, "latin1"), b.subarray(end)])];
}

function pickleOpcode(b, r, hints) {
  if (hints.pickles.length === 0) return interestingBytes(b, r);
  const { ops, lengths } = r.pick(hints.pickles);
  const what = r.int(4);
  if (what === 0) {
    const at = r.pick(ops), op = r.pick(OPCODES);
    b[at] = op;
    return [`opcode@${at}=0x${op.toString(16)}`, b];
  }
  if (what === 1 && lengths.length > 0) {
    const at = r.pick(lengths);
    b[at] = r.pick([0x00, 0x01, 0x7f, 0xff]);
    if (r.next() < 0.5 && at + 4 <= b.length) b.writeUInt32LE(r.pick(EDGE_32) >>> 0, at);
    return [`pickle-length@${at}`, b];
  }
  // Delete or repeat one whole instruction.
  const i = r.int(ops.length - 1), from = ops[i], to = ops[i + 1];
  if (what === 2) return [`drop-op@${from}`, Buffer.concat([b.subarray(0, from), b.subarray(to)])];
  return [`dup-op@${from}`, Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)])];
}

const MUTATORS = [flipBits, interestingBytes, truncate, chunk, sizeField, sizeField, textNumber, pickleOpcode, pickleOpcode];

/** The bytes of case `index` of `seedFile` under run seed `seed`, and what was done to them. */
function mutate(original, hints, seed, index) {
  const r = rng((seed * 0x9e3779b1) ^ (index * 0x85ebca6b) ^ hints.salt);
  let bytes = Buffer.from(original);
  const steps = [];
  for (let n = 1 + (r.next() < 0.3 ? r.int(3) : 0); n > 0 && bytes.length > 0; n--) {
    const [what, out] = r.pick(MUTATORS)(bytes, r, hints);
    steps.push(what);
    bytes = out;
  }
  return { bytes, how: steps.join(" ") };
}

module.exports = { mutate, rng };
