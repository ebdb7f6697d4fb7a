// The training commands' flags for data as people have it (lib/cli/runData.ts)
// and for imbalanced classes; spread into the commands' table after --data.
import type { FlagTable } from "./flags";

export const DATA_FLAGS = {
  "val-split": { type: "string", value: "X", help: "for DATA without val/ (one folder of class folders, or DATA/train alone): hold out this share of each class for validation, seeded by --seed; the split is saved as split.csv in --out" },
  labels: { type: "string", value: "FILE.csv", help: "images and labels from a CSV with path (relative to DATA) and label columns; an optional split column (train or val) replaces --val-split" },
  "class-weights": { type: "string", value: "auto|none|W1,W2,...", default: "none", help: "CrossEntropyLoss's per-class weight: auto is n_samples / (n_classes * count) over the training split (scikit-learn's balanced), or one weight per class in class order" },
} as const satisfies FlagTable;
