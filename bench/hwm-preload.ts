/**
 * Preloaded into a measured child with `node --import dist/bench/hwm-preload.js`: at exit it
 * writes the process's VmHWM (peak resident set, from the kernel) to stderr, so the parent gets
 * the exact peak instead of the last 200 ms poll. It changes nothing else in the child.
 */
import { readFileSync, writeSync } from 'node:fs';

const MARKER = 'UPLINE_BENCH_VMHWM_KIB=';

process.on('exit', () => {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    if (hwm !== undefined) writeSync(2, `\n${MARKER}${hwm}\n`);
  } catch {
    // No /proc (not Linux): the parent falls back to its polled figure.
  }
});
