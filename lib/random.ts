// A small seedable generator (xoshiro128**) for the random transforms and the
// DataLoader's shuffling. It repeats exactly for a seed; it does not try to
// reproduce Python's or libtorch's streams.
import { checkInteger, invalid } from "./check";

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 32) + Math.floor(Math.random() * 2 ** 21) * 2 ** 32;
}

export class Generator {
  private readonly s = new Uint32Array(4);

  constructor(seed?: number) {
    this.manualSeed(seed === undefined ? freshSeed() : seed);
  }

  /** Restarts the stream; seeds are integers in [0, 2^53). */
  manualSeed(seed: number): this {
    checkInteger(seed, "seed", 0);
    // Fold both halves of a 53-bit seed into the splitmix state, so that
    // seeds differing only above bit 32 give different streams.
    const state = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2f) };
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(state);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    return this;
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits, like Python's random.random(). */
  random(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A float in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  /** An integer in [a, b], both ends included (Python's random.randint). */
  randint(a: number, b: number): number {
    if (b < a) throw new RangeError(`randint: empty range [${a}, ${b}]`);
    return a + Math.floor(this.random() * (b - a + 1));
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  /** The stream's position (torch.Generator.get_state): four 32-bit words, for a checkpoint. */
  getState(): number[] {
    return Array.from(this.s);
  }

  /** Puts the stream back where getState() found it. */
  setState(state: readonly number[]): this {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)) {
      throw invalid("array of four 32-bit unsigned integers", "state", state);
    }
    if (state.every((w) => w === 0)) throw new RangeError("generator state cannot be all zeros (xoshiro128** would repeat 0 forever)");
    this.s.set(state);
    return this;
  }

  /** A 53-bit integer, to seed another generator from this one. */
  seed53(): number {
    return (this.nextUint32() >>> 11) * 2 ** 32 + this.nextUint32();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Used by random transforms when no generator is given to them. */
export const defaultGenerator = new Generator();

/** Seeds the default generator, so that transforms and loaders made after it repeat. */
export function setTransformSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
