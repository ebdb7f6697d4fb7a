// What an architecture's exporter is: it adds its eval-mode forward pass to the
// graph, reading weights by their state-dict names, and returns the logits.
import type { Graph } from "./graph";

export type Exporter = (g: Graph, input: string) => string;
