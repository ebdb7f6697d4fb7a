#!/usr/bin/env node
// npm run feature-extract: freeze the ImageNet backbone and train only a new fc.
import { runWithTunedAllocator } from "./allocator";
import { runMain } from "./usage";

// The command itself (and libtorch with it) loads only in the process that
// trains: the parent that re-runs it with the allocator settings needs neither.
runMain("feature-extract", () => runWithTunedAllocator() ?? import("./trainCommand").then(({ trainCommand }) => trainCommand("feature-extract", process.argv.slice(2))));
