import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { UplineError, type UplineErrorCode } from './errors.js';

/**
 * The two steps every JSON file the operator writes (plan, config) goes through before its
 * schema: read it (UPLINE_IO naming the file) and parse it (`invalid` naming the file).
 */
export function readJsonFile(file: string, what: string, invalid: UplineErrorCode): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UplineError('UPLINE_IO', `${file}: cannot read ${what}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UplineError(invalid, `${file}: not valid JSON`, { cause: error });
  }
}

/**
 * A schema refusal as one line naming the field: `ranks[1].gv: expected number`, and for an
 * unknown key the key itself (`prot: unrecognized key`), since that is what the operator typed.
 */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return '(root): invalid';
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys') path.push(...issue.keys);
  return `${formatPath(path)}: ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text === '' ? '(root)' : text;
}
