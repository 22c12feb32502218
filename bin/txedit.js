#!/usr/bin/env node
'use strict';
// The `txedit` command: the compiled CLI (`npm run build` writes dist/).
let cli;
try {
  cli = require('../dist/src/cli/main.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli[\\/]main/.test(String(error.message))) {
    process.stderr.write('txedit: the CLI is not built yet; run `npm run build` in the txedit directory first\n');
    process.exit(1);
  }
  throw error;
}
cli.main();
