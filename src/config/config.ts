import { z } from 'zod';
import { CONFIGURED_CAPACITY_MAX } from '../../native-layout/layouts.js';
import { UplineError } from '../core/errors.js';
import { describeFirstIssue, readJsonFile } from '../core/json-file.js';

/**
 * The server's config file (SPEC 6): JSON, every key optional with an embedded default,
 * unknown keys and wrong types refused at start with the key's name. `config.example.json`
 * documents every key; a test keeps the two in step.
 */
export const configSchema = z.strictObject({
  /** Interface to listen on; loopback unless the operator opens it up. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Where the database (and its WAL) live. */
  dataDir: z.string().min(1).default('./data'),
  /** Plan file path; empty means the embedded reference plan (plans/reference.json). */
  plan: z.string().default(''),
  ingestKey: z.string().min(8).default('dev-ingest-key-change-me'),
  adminToken: z.string().min(8).default('dev-admin-token-change-me'),
  /** HMAC secret for distributor tokens. */
  secret: z.string().min(16).default('dev-secret-change-me-0123456789'),
  /** Walk threads (0 walks on the sequencer thread). */
  workers: z.number().int().min(0).max(64).default(2),
  /** Most events per batch, so per SQLite transaction. */
  batch: z.number().int().min(1).max(1_048_576).default(4096),
  /** SQLite synchronous mode: FULL survives power loss, NORMAL only process crashes. */
  synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
  /**
   * Tables allocated at start (they grow past these by handover, briefly holding both). The
   * bound is `upline replay`'s too, so a size valid here is valid on its command line.
   */
  distributorCapacity: z.number().int().min(1).max(CONFIGURED_CAPACITY_MAX).default(65_536),
  orderCapacity: z.number().int().min(1).max(CONFIGURED_CAPACITY_MAX).default(65_536),
  eventCapacity: z.number().int().min(1).max(CONFIGURED_CAPACITY_MAX).default(65_536),
  /** Largest ingest body (HTTP) or frame (WebSocket) in bytes: 413 past it. */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(8 * 1024 * 1024),
  /** Most events in one ingest body or frame: 413 past it. */
  maxEventsPerBody: z.number().int().min(1).max(1_048_576).default(65_536),
  /** Events that may wait for the engine; past it ingest answers 503 with Retry-After. */
  ingestQueueEvents: z.number().int().min(1).max(16_777_216).default(262_144),
  /** Bytes a live subscriber may fall behind before it is dropped (it reconnects to a snapshot). */
  liveBufferBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(1024 * 1024),
  /** Demo mode for `serve`: distributors to generate into an empty database (0 = off). */
  demoDistributors: z.number().int().min(0).max(10_000_000).default(100_000),
  /** Demo mode: synthetic orders per second fed to the engine (0 = off). */
  demoOrdersPerSecond: z.number().int().min(0).max(1_000_000).default(50),
});

export type Config = z.infer<typeof configSchema>;

export function parseConfig(value: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(value);
  if (result.success) return result.data;
  const where = describeFirstIssue(result.error);
  throw new UplineError('UPLINE_INVALID_CONFIG', `${source}: ${where}`);
}

export function loadConfig(file: string | undefined): Config {
  if (file === undefined) return parseConfig({}, 'embedded defaults');
  return parseConfig(readJsonFile(file, 'config file', 'UPLINE_INVALID_CONFIG'), file);
}
