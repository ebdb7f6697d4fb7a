// Module: the shared part of every model, mirroring torch.nn.Module.
import { checkBoolean, checkOptions, invalid, withCallerStack } from "../check";
import { checkDevice } from "../device";
import { isGradEnabled } from "../grad";
import { addon, NativeModule, NativeSGD } from "../native";
import { checkTensor, Tensor } from "../tensor";
import { SerialQueue } from "./serial";

export type StateDict = Map<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export class Module {
  /** @internal */
  readonly native: NativeModule;
  /**
   * @internal Serialises multi-step work that must not interleave, such as a
   * data-parallel step's collectives. Single native calls need no queue: they
   * run on the native compute queue in call order.
   */
  readonly queue = new SerialQueue();

  protected constructor(native: NativeModule) {
    this.native = native;
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

  to(device: string): this {
    this.native.to(checkDevice(device));
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
  runBatch(optimizer: NativeSGD | null, inputs: Tensor, labels: Tensor, train: boolean): Promise<{ loss: number; correct: number }> {
    return addon.trainStep(this.native, optimizer, inputs, labels, train);
  }

  /** @internal Sums per-phase totals (loss, correct, images) across workers; one worker has nothing to add. */
  async reduceTotals(totals: number[]): Promise<number[]> {
    return totals;
  }

  /** Runs the module on `input`; gradients are recorded unless inside noGrad(). */
  forward(input: Tensor): Promise<Tensor> {
    checkTensor(input, "input");
    const grad = isGradEnabled();
    return withCallerStack(this.native.forward(input, grad), new Error());
  }
}

function quoteAll(names: string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}
