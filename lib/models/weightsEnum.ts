// torchvision's weights enums: each member ties a model to its file (URL and
// SHA-256 prefix), its eval transforms and its facts, as WeightsEnum does.
import { CenterCrop } from "../transforms/centerCrop";
import { Compose } from "../transforms/compose";
import { Normalize } from "../transforms/normalize";
import type { InterpolationMode } from "../transforms/functional";
import { Resize } from "../transforms/resize";
import { ToTensor } from "../transforms/toTensor";
import type { RgbImage } from "../data/image";
import type { Tensor } from "../tensor";

export interface WeightsSpec {
  url: string;
  /** The eval preset's crop; resizeSize defaults to 256 as in torchvision's ImageClassification. */
  cropSize: number;
  resizeSize?: number;
  /** The preset's resize filter; bilinear unless torchvision says otherwise. */
  interpolation?: InterpolationMode;
  numParams: number;
  numClasses?: number;
  /** The smallest input the weights take; a ViT's image size is fixed to it. */
  minSize?: number;
  /**
   * Where earlier torchvision releases published the same weights, newest first: a
   * file of theirs already in the cache is used rather than downloading `url`.
   */
  formerUrls?: string[];
}

export class Weights {
  readonly url: string;
  /** Earlier torchvision releases' files of these weights (see WeightsSpec.formerUrls). */
  readonly formerUrls: readonly string[];
  readonly cropSize: number;
  readonly resizeSize: number;
  readonly interpolation: InterpolationMode;
  readonly mean = [0.485, 0.456, 0.406];
  readonly std = [0.229, 0.224, 0.225];
  readonly meta: { numParams: number; numClasses: number; minSize: number };

  constructor(readonly enumName: string, readonly name: string, spec: WeightsSpec) {
    this.url = spec.url;
    this.formerUrls = Object.freeze([...(spec.formerUrls ?? [])]);
    this.cropSize = spec.cropSize;
    this.resizeSize = spec.resizeSize ?? 256;
    this.interpolation = spec.interpolation ?? "bilinear";
    this.meta = { numParams: spec.numParams, numClasses: spec.numClasses ?? 1000, minSize: spec.minSize ?? 1 };
  }

  /** The file name in torch.hub's cache, as torch.hub names it: the URL's last part. */
  get fileName(): string {
    return this.url.slice(this.url.lastIndexOf("/") + 1);
  }

  /** The cache's names of formerUrls' files. */
  get formerFileNames(): string[] {
    return this.formerUrls.map((u) => u.slice(u.lastIndexOf("/") + 1));
  }

  /** The first hex digits of the file's SHA-256, from its name (torch.hub's check_hash). */
  get sha256Prefix(): string {
    return /-([a-f0-9]+)\./.exec(this.fileName)![1];
  }

  /** The eval preset these weights were measured with: resize (with its filter), centre crop, ToTensor, Normalize. */
  transforms(): Compose<RgbImage, Tensor> {
    return new Compose<RgbImage, Tensor>([new Resize(this.resizeSize, { interpolation: this.interpolation }), new CenterCrop(this.cropSize), new ToTensor(), new Normalize(this.mean, this.std)]);
  }

  toString(): string {
    return `${this.enumName}.${this.name}`;
  }
}

/** What every weights enum has, whatever its members. */
export interface AnyWeightsEnum {
  readonly enumName: string;
  readonly DEFAULT: Weights;
  members(): Weights[];
}

export type WeightsEnum<K extends string> = AnyWeightsEnum & { readonly [name in K]: Weights };

/** A weights enum with its members and DEFAULT, which is one of them, as in torchvision. */
export function weightsEnum<S extends Record<string, WeightsSpec>>(
  enumName: string, specs: S, defaultName: keyof S & string,
): WeightsEnum<keyof S & string> {
  const members = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, new Weights(enumName, name, spec as WeightsSpec)]));
  return Object.freeze({
    ...members,
    DEFAULT: members[defaultName],
    enumName,
    members: () => Object.values(members),
  }) as unknown as WeightsEnum<keyof S & string>;
}
