#!/usr/bin/env node
import { main } from '../dist/src/cli.js';

const code = await main(process.argv.slice(2));
// Let stdout drain (large JSON reports into a pipe) before exiting.
process.exitCode = code;
