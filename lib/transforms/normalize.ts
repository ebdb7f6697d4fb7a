// Normalize: (x - mean[c]) / std[c] for each channel of a float32 CHW tensor.
import { checkNumber, invalid } from "../check";
import { checkTensor, tensor, Tensor } from "../tensor";
import { Transform } from "./transform";

function checkList(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid("non-empty array of numbers", name, value);
  return value.map((v, i) => checkNumber(v, `${name}[${i}]`));
}

export class Normalize implements Transform<Tensor, Tensor> {
  readonly mean: number[];
  readonly std: number[];

  constructor(mean: number[], std: number[]) {
    this.mean = checkList(mean, "mean");
    this.std = checkList(std, "std");
    // One value per channel in both, or one for all in both: anything else is a slip that would only fail at forward().
    if (this.mean.length !== this.std.length) {
      throw new RangeError(`Normalize: expected mean and std of the same length (one value per channel), got ${this.mean.length} and ${this.std.length}`);
    }
    if (this.std.some((s) => Math.fround(s) === 0)) {
      throw new RangeError("std evaluated to zero after conversion to float32, leading to division by zero.");
    }
  }

  /** mean and std with one value per channel; a list of length 1 applies to every channel. */
  perChannel(channels: number): [number[], number[]] {
    for (const [name, list] of [["mean", this.mean], ["std", this.std]] as const) {
      if (list.length !== 1 && list.length !== channels) {
        throw new RangeError(`Normalize: ${name} has ${list.length} values but the input has ${channels} channels`);
      }
    }
    const each = (list: number[]) => Array.from({ length: channels }, (_, c) => list[list.length === 1 ? 0 : c]);
    return [each(this.mean), each(this.std)];
  }

  /** Normalizes CHW values in place, in float32 arithmetic as torch does on a float32 tensor. */
  normalizeInPlace(values: Float32Array, channels: number): Float32Array {
    const [mean, std] = this.perChannel(channels);
    const plane = values.length / channels;
    for (let c = 0; c < channels; c++) {
      const m = Math.fround(mean[c]), s = Math.fround(std[c]);
      for (let p = c * plane; p < (c + 1) * plane; p++) values[p] = Math.fround(values[p] - m) / s;
    }
    return values;
  }

  async forward(input: Tensor): Promise<Tensor> {
    const t = checkTensor(input, "input");
    if (t.dtype !== "float32" || t.shape.length < 3) {
      throw invalid("float32 Tensor of shape [..., C, H, W]", "input", `${t}`);
    }
    const values = Float32Array.from((await t.data()) as Float32Array);
    return tensor(this.normalizeInPlace(values, t.shape[t.shape.length - 3]), t.shape);
  }

  toString(): string {
    return `Normalize(mean=[${this.mean.join(", ")}], std=[${this.std.join(", ")}])`;
  }
}
