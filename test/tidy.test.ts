import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The repository's own tidy checks (as TigerBeetle's tidy.zig): what the formatter cannot
 * enforce. Lines stay within 100 columns (prettier wraps code but not strings or comments),
 * and no source file carries `any` on the money path or a disabled test.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COLUMNS_MAX = 100;

function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .filter((file) => /^(src|native-layout|test|bench)\/.*\.c?ts$/.test(file));
}

/** `any` in code (comments aside): `: any`, `<any>`, `as any`. */
function hasExplicitAny(text: string): boolean {
  return text.split('\n').some((line) => {
    const code = line.trim();
    if (code.startsWith('*') || code.startsWith('/*') || code.startsWith('//')) return false;
    return /:\s*any\b|<any>|\bas any\b/.test(code);
  });
}

test('source lines are at most 100 columns', () => {
  const long: string[] = [];
  for (const file of sourceFiles()) {
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if ([...line].length > COLUMNS_MAX) long.push(`${file}:${index + 1}`);
      });
  }
  assert.deepEqual(long, [], `lines over ${COLUMNS_MAX} columns`);
});

test('no skipped or focused tests, and no explicit any in src/', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    if (
      file.startsWith('test/') &&
      /\b(skip|only|todo):\s*(true|')|\.(skip|only|todo)\(/.test(text)
    ) {
      offenders.push(`${file}: skipped, focused or todo test`);
    }
    if (file.startsWith('src/') && hasExplicitAny(text)) offenders.push(`${file}: explicit any`);
  }
  assert.deepEqual(offenders, []);
});
