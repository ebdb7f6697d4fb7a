// Module: the shared part of every model, mirroring torch.nn.Module.
import { checkBoolean, checkOptions, invalid, withCallerStack } from "../check";
import { checkDevice } from "../device";
import { isGradEnabled } from "../grad";
import { currentAutocast } from "../amp/autocast";
import { addon, InferenceInfo, InferenceLayout, NativeAmpOptions, NativeLossOptions, NativeModule, NativeSGD } from "../native";
import { probeLayouts } from "../layoutProbe";
import { checkMemoryFormat, checkTensor, MemoryFormat, Tensor } from "../tensor";
import { SerialQueue } from "./serial";

export type StateDict = Map<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** What wraps a submodule handle: Linear registers itself so that `model.fc` is a Linear. */
const childClasses = new Map<string, { fromNative(native: NativeModule, queue: SerialQueue): Module }>();

export class Module {
  /** @internal */
  readonly native: NativeModule;
  /**
   * @internal Serialises multi-step work that must not interleave, such as a
   * data-parallel step's collectives. Single native calls need no queue: they
   * run on the native compute queue in call order. Shared by a model and every
   * handle on its submodules.
   */
  readonly queue: SerialQueue;

  protected constructor(native: NativeModule, queue = new SerialQueue()) {
    this.native = native;
    this.queue = queue;
    defineChildAccessors(this);
  }

  /** @internal A handle on a submodule of a model, sharing its parameters and its queue. */
  static wrap(native: NativeModule, queue: SerialQueue): Module {
    const cls = childClasses.get(native.kind);
    return cls ? cls.fromNative(native, queue) : new Module(native, queue);
  }

  /** @internal */
  static registerChildClass(kind: string, cls: { fromNative(native: NativeModule, queue: SerialQueue): Module }): void {
    childClasses.set(kind, cls);
  }

  /** torchvision's class name of this module: ResNet, Bottleneck, Sequential, Conv2d, Linear, ... */
  get kind(): string {
    return this.native.kind;
  }

  /** The direct children with their names, in registration order (named_children()). */
  namedChildren(): [string, Module][] {
    return this.native.namedChildren().map(([name, child]) => [name, Module.wrap(child, this.queue)]);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every submodule, depth first, with dotted names ("" for this one), as named_modules() gives them. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** The submodule at a dotted path ("layer4.1.conv2", "classifier.3"), as get_submodule() finds it. */
  getSubmodule(target: string): Module {
    if (typeof target !== "string") throw invalid("dotted path string", "target", target);
    if (target === "") return this;
    return Module.wrap(this.native.child(target), this.queue);
  }

  /** Replaces the submodule at a dotted path, as assigning `model.classifier[3] = ...` does in PyTorch. */
  setSubmodule(target: string, module: Module): void {
    if (typeof target !== "string" || target === "") throw invalid("dotted path string", "target", target);
    if (!(module instanceof Module)) throw invalid("Module", target, module);
    this.native.setChild(target, module.native);
  }

  /**
   * Lets go of the native module now rather than at garbage collection; any
   * later use throws. Its memory is freed once nothing else holds it: work
   * already queued finishes first, and tensors taken from parameters() or
   * stateDict() (and an optimizer over them) keep theirs until disposed.
   */
  dispose(): void {
    this.native.dispose();
  }

  get isDisposed(): boolean {
    return this.native.isDisposed;
  }

  get training(): boolean {
    return this.native.training;
  }

  train(mode = true): this {
    this.native.train(checkBoolean(mode, "mode"));
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Moves parameters and buffers to `device`, and with `memoryFormat` lays out
   * every 4-D one in it: `model.to({ memoryFormat: "channels_last" })` is
   * `model.to(memory_format=torch.channels_last)`. Convolutions follow their
   * weights' format, so a channels-last model trains and evaluates channels-last
   * whatever its inputs' layout; values are the same to float rounding.
   */
  to(device: string, options?: { memoryFormat?: MemoryFormat }): this;
  to(options: { device?: string; memoryFormat?: MemoryFormat }): this;
  to(deviceOrOptions: string | { device?: string; memoryFormat?: MemoryFormat }, options?: { memoryFormat?: MemoryFormat }): this {
    if (typeof deviceOrOptions !== "string" && (typeof deviceOrOptions !== "object" || deviceOrOptions === null || Array.isArray(deviceOrOptions))) {
      throw invalid("a device string or { device, memoryFormat }", "device", deviceOrOptions);
    }
    const opts =
      typeof deviceOrOptions === "string"
        ? { ...checkOptions(options, { memoryFormat: true }, "Module.to"), device: deviceOrOptions }
        : checkOptions(deviceOrOptions, { device: true, memoryFormat: true }, "Module.to");
    const device = opts.device === undefined ? undefined : checkDevice(opts.device);
    const memoryFormat = opts.memoryFormat === undefined ? undefined : checkMemoryFormat(opts.memoryFormat, "memoryFormat");
    if (device !== undefined) this.native.to(device);
    if (memoryFormat !== undefined) this.native.toMemoryFormat(memoryFormat);
    return this;
  }

  namedParameters(): [string, Tensor][] {
    return this.native.namedParameters();
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Parameters and buffers by name, in torchvision's order; the tensors share the module's memory. */
  stateDict(): StateDict {
    return new Map(this.native.stateDict());
  }

  /** Copies `stateDict` into this module's parameters and buffers, as load_state_dict does. */
  loadStateDict(stateDict: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    const { strict = true } = checkOptions(options, { strict: true }, "loadStateDict");
    const given = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict ?? {}));
    if (!(stateDict instanceof Map) && (typeof stateDict !== "object" || stateDict === null)) {
      throw invalid("Map of name to Tensor", "stateDict", stateDict);
    }
    const own = this.native.stateDict();
    const ownNames = new Set(own.map(([name]) => name));
    const missingKeys = own.map(([name]) => name).filter((name) => !given.has(name));
    const unexpectedKeys = [...given.keys()].filter((name) => !ownNames.has(name));
    const problems: string[] = [];
    if (strict && unexpectedKeys.length) problems.push(`Unexpected key(s) in state_dict: ${quoteAll(unexpectedKeys)}.`);
    if (strict && missingKeys.length) problems.push(`Missing key(s) in state_dict: ${quoteAll(missingKeys)}.`);
    for (const [name, target] of own) {
      const source = given.get(name);
      if (source === undefined) continue;
      checkTensor(source, `stateDict "${name}"`);
      if (source.shape.join(",") !== target.shape.join(",")) {
        problems.push(
          `size mismatch for ${name}: copying a param with shape [${source.shape.join(", ")}] from checkpoint, ` +
            `the shape in current model is [${target.shape.join(", ")}].`,
        );
      }
    }
    if (problems.length) {
      throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join("\n\t")}`);
    }
    for (const [name, target] of own) {
      const source = given.get(name);
      if (source !== undefined) target.copy_(source);
    }
    return { missingKeys, unexpectedKeys };
  }

  /**
   * @internal One batch of training or evaluation in a single native call:
   * forward, cross-entropy, and when training, backward and the optimizer step.
   * Wrappers such as data-parallel training override it.
   */
  runBatch(
    optimizer: NativeSGD | null, inputs: Tensor, labels: Tensor, train: boolean, criterion?: NativeLossOptions, amp?: NativeAmpOptions | null,
  ): Promise<{ loss: number; correct: number }> {
    return addon.trainStep(this.native, optimizer, inputs, labels, train, criterion, amp);
  }

  /** @internal Sums per-phase totals (loss, correct, images) across workers; one worker has nothing to add. */
  async reduceTotals(totals: number[]): Promise<number[]> {
    return totals;
  }

  /** Runs the module on `input`; gradients are recorded unless inside noGrad(). */
  forward(input: Tensor): Promise<Tensor> {
    checkTensor(input, "input");
    const grad = isGradEnabled();
    return withCallerStack(this.native.forward(input, grad, currentAutocast()), new Error());
  }

  /**
   * The eval-mode output for `input`, the way `torch.jit.optimize_for_inference`
   * runs a model: each BatchNorm2d that follows a Conv2d is folded into it (its
   * running statistics), convolution weights are laid out once for oneDNN, and
   * the forward runs under `c10::InferenceMode` (no autograd at all). Logits
   * equal `forward()`'s in eval mode to float rounding (a test bounds them at
   * 1e-4 of the largest). The fast form is rebuilt by itself after the weights,
   * the running statistics, the device or the module tree change; while any
   * submodule is in train mode this is the plain forward without gradients.
   *
   * `layout`: "mkldnn" (the default: oneDNN's blocked tensors between
   * convolutions, for the ResNet family; other trees fall back to
   * "channels_last"), "channels_last" or "contiguous". Where the libtorch 2.x
   * probe (lib/layoutProbe.ts) found a layout crashing or wrong on this
   * machine, mkldnn falls back to channels_last and channels_last to contiguous. The default measured
   * fastest or level at batch 1 and 4 on a 2-core AVX2 EPYC (npm run bench --
   * --only serve).
   */
  inferenceForward(input: Tensor, options: { layout?: InferenceLayout } = {}): Promise<Tensor> {
    checkTensor(input, "input");
    const { layout } = checkOptions(options, { layout: true }, "inferenceForward");
    if (layout !== undefined && layout !== "contiguous" && layout !== "channels_last" && layout !== "mkldnn") {
      throw invalid('"contiguous", "channels_last" or "mkldnn"', "layout", layout);
    }
    const stack = new Error();
    if (layout === "contiguous") return withCallerStack(this.native.inferenceForward(input, layout), stack);
    // oneDNN's layouts wait for the probe on libtorch 2.x (lib/layoutProbe.ts).
    return withCallerStack(probeLayouts().then(() => this.native.inferenceForward(input, layout)), stack);
  }

  /** @internal What the fast eval form did when last built (folded BatchNorms, builds, layout). */
  inferenceInfo(): Promise<InferenceInfo> {
    return this.native.inferenceInfo();
  }
}

/**
 * Attribute access to children as torchvision names them (`model.layer4`,
 * `model.classifier[3]`): reading gives a handle on the child, assigning a
 * Module replaces it. Names a class already defines (ResNet's typed `fc`) are left to it.
 */
function defineChildAccessors(module: Module): void {
  for (const [name] of module.native.namedChildren()) {
    if (name in module) continue;
    Object.defineProperty(module, name, {
      enumerable: true,
      configurable: true,
      get: () => Module.wrap(module.native.child(name), module.queue),
      set: (value: unknown) => module.setSubmodule(name, value as Module),
    });
  }
}

function quoteAll(names: string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}
