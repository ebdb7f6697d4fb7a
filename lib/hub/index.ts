// Getting files: pretrained weights, the tutorial's data, and the download machinery behind them.
export { download, hashPrefixFromName } from "./download";
export type { DownloadOptions } from "./download";
export { resolveWeights, weightsUrl, RESNET18_FILE, hubCheckpointsDir, cachedWeightsFile } from "./weights";
export type { ResolveOptions } from "./weights";
export { fetchData, DEFAULT_DATA_URL } from "./fetchData";
export type { FetchDataOptions } from "./fetchData";
export { extractZip } from "./zip";
