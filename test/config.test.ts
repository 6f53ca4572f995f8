import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configSchema, parseConfig } from '../src/config/config.js';
import { UplineError } from '../src/core/errors.js';

const EXAMPLE = fileURLToPath(new URL('../../config.example.json', import.meta.url));
const CONFIG_DOC = fileURLToPath(new URL('../../docs/config.md', import.meta.url));

test('config.example.json holds every key of the schema, and parses', () => {
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(example).sort(), Object.keys(configSchema.shape).sort());
  const config = parseConfig(example, 'config.example.json');
  assert.equal(config.port, 8080);
  assert.equal(config.distributorCapacity, 1_048_576);
});

test('docs/config.md documents every key', () => {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  for (const key of Object.keys(configSchema.shape)) {
    assert.ok(doc.includes(`| \`${key}\` |`), `docs/config.md lacks a row for ${key}`);
  }
});

test('missing keys take the embedded defaults', () => {
  const config = parseConfig({});
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.workers, 2);
  assert.equal(config.batch, 4096);
  assert.equal(config.synchronous, 'FULL');
  assert.equal(config.plan, '');
});

function refused(value: unknown, key: string): void {
  assert.throws(
    () => parseConfig(value, 'test.json'),
    (error: unknown) =>
      error instanceof UplineError &&
      error.code === 'UPLINE_INVALID_CONFIG' &&
      error.message.startsWith(`test.json: ${key}:`),
  );
}

test('an unknown key is refused, naming it', () => {
  refused({ prot: 8080 }, 'prot');
});

test('a wrong type is refused, naming the key', () => {
  refused({ port: '8080' }, 'port');
  refused({ workers: 1.5 }, 'workers');
  refused({ synchronous: 'OFF' }, 'synchronous');
  refused({ secret: 'short' }, 'secret');
  refused({ batch: 0 }, 'batch');
});

test('a config that is not an object is refused', () => {
  assert.throws(() => parseConfig([], 'test.json'), UplineError);
  assert.throws(() => parseConfig(null, 'test.json'), UplineError);
});
