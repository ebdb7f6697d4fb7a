// What every tt.models.NAME(options) does: check the options once, build the
// native module tree by name, and load weights when asked, as torchvision's
// builders do (a weights enum member fixes numClasses to its own).
import { checkBoolean, checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { addon, NativeModule } from "../native";
import { Module } from "../nn/module";
import { loadWeights } from "./weights";
import { AnyWeightsEnum, Weights } from "./weightsEnum";

export interface ModelOptions {
  /** Outputs of the classifier layer; 1000 by default, and fixed to the weights' own with named weights. */
  numClasses?: number;
  /**
   * null (default): torchvision's random initialisation. A member of the model's
   * weights enum, or its name ("IMAGENET1K_V1", "IMAGENET1K_V2", "DEFAULT"; "imagenet"
   * means DEFAULT), downloaded into torch.hub's cache; or a path to a .pth or .safetensors file.
   */
  weights?: Weights | string | null;
  /** Show a download progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

/** The weights enum member a spec names, or the spec itself when it is a file path. */
export function weightsFor(arch: string, weightsEnum: AnyWeightsEnum | null, spec: Weights | string): Weights | string {
  if (spec instanceof Weights) {
    if (!weightsEnum || !weightsEnum.members().includes(spec)) {
      throw new TypeError(`Expected weights of ${weightsEnum ? weightsEnum.enumName : "none (this model has no named weights)"} for ${arch} but received ${spec}`);
    }
    return spec;
  }
  const name = spec.toLowerCase() === "imagenet" ? "DEFAULT" : spec.startsWith(`${weightsEnum?.enumName}.`) ? spec.split(".")[1] : spec;
  if (/^(DEFAULT|IMAGENET1K_[A-Z0-9_]+)$/.test(name)) {
    const member = weightsEnum ? (weightsEnum as unknown as Record<string, Weights | undefined>)[name] : undefined;
    if (!member) {
      const known = weightsEnum ? ["DEFAULT", ...weightsEnum.members().map((w) => w.name)].join(", ") : "none";
      throw new Error(`${arch} has no weights named ${name} (it has: ${known})`);
    }
    return member;
  }
  return spec;
}

export function buildModel<M extends Module>(
  arch: string,
  wrap: (native: NativeModule) => M,
  weightsEnum: AnyWeightsEnum | null,
  options: ModelOptions & Record<string, unknown>,
  extra: Record<string, "integer" | "boolean" | "probability"> = {},
): M | Promise<M> {
  const known: Record<string, true> = { numClasses: true, weights: true, progress: true };
  for (const key of Object.keys(extra)) known[key] = true;
  checkOptions(options, known, arch);
  const given = options.weights ?? null;
  if (given !== null && typeof given !== "string" && !(given instanceof Weights)) {
    throw invalid(`null, a file path or a ${weightsEnum?.enumName ?? "weights"} member`, "weights", given);
  }
  const weights = given === null ? null : weightsFor(arch, weightsEnum, given);
  let numClasses = options.numClasses === undefined ? undefined : checkInteger(options.numClasses, "numClasses", 1);
  if (weights instanceof Weights) {
    if (numClasses !== undefined && numClasses !== weights.meta.numClasses) {
      throw new RangeError(`The parameter 'numClasses' expected value ${weights.meta.numClasses} but got ${numClasses} instead (${weights} has ${weights.meta.numClasses} classes; replace the head after loading)`);
    }
    numClasses = weights.meta.numClasses;
    // torchvision's ViT builder fixes image_size to the weights' min_size the same way.
    if ("imageSize" in extra && options.imageSize !== undefined && options.imageSize !== weights.meta.minSize) {
      throw new RangeError(`The parameter 'imageSize' expected value ${weights.meta.minSize} but got ${String(options.imageSize)} instead (${weights} takes ${weights.meta.minSize}x${weights.meta.minSize} images)`);
    }
  }
  const nativeOptions: Record<string, number | boolean> = { numClasses: numClasses ?? 1000 };
  for (const [key, kind] of Object.entries(extra)) {
    const value = options[key];
    if (value === undefined) continue;
    nativeOptions[key] =
      kind === "boolean" ? checkBoolean(value, key) : kind === "probability" ? checkNumber(value, key, { min: 0, max: 1 }) : checkInteger(value, key, 1);
  }
  if (weights instanceof Weights && "imageSize" in extra) nativeOptions.imageSize = weights.meta.minSize;
  const progress = options.progress === undefined ? undefined : checkBoolean(options.progress, "progress");
  const model = wrap(addon.Module.create(arch, nativeOptions));
  if (weights === null) return model;
  return loadWeights(weights, { progress }).then((stateDict) => {
    try {
      model.loadStateDict(stateDict);
    } finally {
      for (const t of stateDict.values()) t.dispose();
    }
    return model;
  });
}
