// torchvision's RandomErasing, on the normalized tensor (after Normalize, as
// torchvision's references place it): a random box takes a value or noise.
import { checkNumber, invalid } from "../../check";
import { pyRound } from "../../data/image";
import { defaultGenerator, Generator } from "../../random";
import { checkTensor, tensor, Tensor } from "../../tensor";
import { pyFloat } from "../functional";
import { Transform } from "../transform";
import { erase } from "./functional";
import { normal } from "./sampling";

export interface RandomErasingOptions {
  p?: number;
  /** [min, max] of the erased fraction of the area. */
  scale?: number[];
  /** [min, max] of the box's aspect ratio (height / width, as torchvision computes h from erase_area * ratio). */
  ratio?: number[];
  /** A number for every channel, one per channel, or "random" for standard normal noise. */
  value?: number | number[] | "random";
}

export interface ErasingParams { i: number; j: number; h: number; w: number; v: Tensor | null }

export class RandomErasing implements Transform<Tensor, Tensor> {
  readonly p: number;
  readonly scale: [number, number];
  readonly ratio: [number, number];
  readonly value: number[] | "random";

  constructor(options: RandomErasingOptions = {}) {
    const { p = 0.5, scale = [0.02, 0.33], ratio = [0.3, 3.3], value = 0 } = options;
    this.p = checkNumber(p, "p", { min: 0, max: 1 });
    const pair = (v: unknown, name: string): [number, number] => {
      if (!Array.isArray(v) || v.length !== 2) throw invalid("[min, max] pair of numbers", name, v);
      const [a, b] = [checkNumber(v[0], `${name}[0]`, { min: 0 }), checkNumber(v[1], `${name}[1]`, { min: 0 })];
      if (a > b) throw invalid("[min, max] with min <= max", name, v);
      return [a, b];
    };
    this.scale = pair(scale, "scale");
    if (this.scale[1] > 1) throw invalid("range of proportions in [0, 1]", "scale", scale);
    this.ratio = pair(ratio, "ratio");
    if (value === "random") this.value = "random";
    else if (typeof value === "number") this.value = [checkNumber(value, "value")];
    else if (Array.isArray(value) && value.length > 0) this.value = value.map((v, k) => checkNumber(v, `value[${k}]`));
    else throw invalid('number, array of numbers or "random"', "value", value);
  }

  /** RandomErasing.get_params for a [C, H, W] image: ten tries at a box inside it, else null (the image is kept). */
  static getParams(shape: number[], scale: [number, number], ratio: [number, number], value: number[] | "random",
    generator: Generator = defaultGenerator): ErasingParams | null {
    const [c, height, width] = shape.slice(-3);
    const area = height * width;
    const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const eraseArea = area * generator.uniform(scale[0], scale[1]);
      const aspect = Math.exp(generator.uniform(logRatio[0], logRatio[1]));
      const h = pyRound(Math.sqrt(eraseArea * aspect));
      const w = pyRound(Math.sqrt(eraseArea / aspect));
      if (!(h < height && w < width)) continue;
      const v = value === "random"
        ? tensor(Float32Array.from({ length: c * h * w }, () => normal(generator)), [c, h, w])
        : tensor(Float32Array.from(value), [value.length, 1, 1]);
      const i = generator.randint(0, height - h), j = generator.randint(0, width - w);
      return { i, j, h, w, v };
    }
    return null;
  }

  async forward(input: Tensor, generator: Generator = defaultGenerator): Promise<Tensor> {
    const img = checkTensor(input, "input");
    if (img.dtype !== "float32" || img.shape.length < 3) throw invalid("float32 Tensor of shape [..., C, H, W]", "input", `${img}`);
    if (generator.random() >= this.p) return img;
    const c = img.shape[img.shape.length - 3];
    if (this.value !== "random" && this.value.length !== 1 && this.value.length !== c) {
      throw new RangeError(`RandomErasing: value needs 1 or ${c} numbers (one per channel), got ${this.value.length}`);
    }
    const p = RandomErasing.getParams(img.shape, this.scale, this.ratio, this.value, generator);
    if (!p) return img;
    try {
      return await erase(img, p.i, p.j, p.h, p.w, p.v!);
    } finally {
      p.v!.dispose();
    }
  }

  toString(): string {
    const value = this.value === "random" ? "random" : this.value.length === 1 ? pyFloat(this.value[0]) : `[${this.value.join(", ")}]`;
    return `RandomErasing(p=${pyFloat(this.p)}, scale=(${this.scale.join(", ")}), ratio=(${this.ratio.join(", ")}), value=${value}, inplace=False)`;
  }
}
