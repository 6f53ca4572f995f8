/**
 * Generated event files, cached in WORK_DIR by their parameters: the generator is
 * deterministic (same options, same bytes), so a file whose stats sidecar exists is reused.
 * The sidecar is written last, so a generation cut short is never mistaken for a whole file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { generateToFile, type GenerateStats } from '../src/generate/generate.js';
import { formatBytes, WORK_DIR } from './support.js';

export interface EventFileParams {
  readonly distributors: number;
  readonly orders: number;
  readonly seed: number;
}

export interface EventFile {
  readonly file: string;
  readonly stats: GenerateStats;
  /** 0 when the cached file was used. */
  readonly generateMs: number;
  readonly cached: boolean;
}

export function eventFilePath(params: EventFileParams): string {
  const key = `d${params.distributors}-o${params.orders}-s${params.seed}`;
  return path.join(WORK_DIR, `events-${key}.ndjson`);
}

export function ensureEventFile(params: EventFileParams): EventFile {
  const file = eventFilePath(params);
  const statsFile = `${file}.stats.json`;
  if (fs.existsSync(file) && fs.existsSync(statsFile)) {
    const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as GenerateStats;
    console.error(`using cached ${file} (${formatBytes(stats.bytes)})`);
    return { file, stats, generateMs: 0, cached: true };
  }
  fs.mkdirSync(WORK_DIR, { recursive: true });
  fs.rmSync(statsFile, { force: true });
  console.error(`generating ${file} ...`);
  const started = performance.now();
  const options = { distributors: params.distributors, orders: params.orders, seed: params.seed };
  const stats = generateToFile(options, file);
  const generateMs = performance.now() - started;
  fs.writeFileSync(statsFile, JSON.stringify(stats));
  const seconds = (generateMs / 1000).toFixed(1);
  console.error(`generated ${stats.events} events (${formatBytes(stats.bytes)}) in ${seconds} s`);
  return { file, stats, generateMs, cached: false };
}
