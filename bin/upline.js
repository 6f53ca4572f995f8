#!/usr/bin/env node
// The package's `bin`: runs the compiled CLI (build with `npm run build`).
import '../dist/src/cli/main.js';
