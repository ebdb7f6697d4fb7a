// Copies of weights that outlive further training (copy.deepcopy(model.state_dict())).
import { StateDict } from "../nn/module";

export function cloneStateDict(stateDict: StateDict): StateDict {
  return new Map([...stateDict].map(([name, t]) => [name, t.detach()]));
}

export function disposeStateDict(stateDict: StateDict | null | undefined): void {
  if (stateDict) for (const t of stateDict.values()) t.dispose();
}
