// torch.utils.data's dataset helpers (the DataLoader itself is tt.DataLoader).
export { Subset } from "./subset";
export { randomSplit, trainTestSplit, trainTestSplitIndices } from "./split";
export type { TrainTestSplitOptions } from "./split";
