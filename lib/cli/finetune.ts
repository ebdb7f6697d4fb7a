#!/usr/bin/env node
// npm run finetune: train every layer of an ImageNet ResNet-18 with a new fc.
import { runWithTunedAllocator } from "./allocator";
import { runMain } from "./usage";

// The command itself (and libtorch with it) loads only in the process that
// trains: the parent that re-runs it with the allocator settings needs neither.
runMain("finetune", () => runWithTunedAllocator() ?? import("./trainCommand").then(({ trainCommand }) => trainCommand("finetune", process.argv.slice(2))));
