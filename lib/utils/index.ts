// tt.utils: the pictures (torchvision.utils), torch.utils.data's dataset
// helpers, and scikit-learn's class weights.
export * from "../viz";
export * as data from "./data";
export { computeClassWeight } from "./classWeight";
