#!/usr/bin/env node
// npm run feature-extract: freeze the ImageNet backbone and train only a new fc.
import { trainCommand } from "./trainCommand";
import { runWithTunedAllocator } from "./allocator";
import { runMain } from "./usage";

runMain("feature-extract", () => runWithTunedAllocator() ?? trainCommand("feature-extract", process.argv.slice(2)));
