// torch.nn.CrossEntropyLoss with mean reduction.
import { withCallerStack } from "../check";
import { isGradEnabled } from "../grad";
import { addon } from "../native";
import { checkTensor, Tensor } from "../tensor";

export class CrossEntropyLoss {
  /** The mean cross-entropy of `input` logits [N, C] against int64 class indices `target` [N]. */
  forward(input: Tensor, target: Tensor): Promise<Tensor> {
    checkTensor(input, "input");
    checkTensor(target, "target");
    if (input.shape.length !== 2) throw new RangeError(`Expected input of shape [N, C] but received [${input.shape.join(", ")}]`);
    if (target.dtype !== "int64") throw new TypeError(`Expected target of dtype int64 but received ${target.dtype}`);
    if (target.shape.length !== 1 || target.shape[0] !== input.shape[0]) {
      throw new RangeError(`Expected target of shape [${input.shape[0]}] but received [${target.shape.join(", ")}]`);
    }
    return withCallerStack(addon.crossEntropy(input, target, isGradEnabled()), new Error());
  }

  toString(): string {
    return "CrossEntropyLoss()";
  }
}
