#!/usr/bin/env node
// npm run finetune: train every layer of an ImageNet ResNet-18 with a new fc.
import { trainCommand } from "./trainCommand";
import { runWithTunedAllocator } from "./allocator";
import { runMain } from "./usage";

runMain("finetune", () => runWithTunedAllocator() ?? trainCommand("finetune", process.argv.slice(2)));
