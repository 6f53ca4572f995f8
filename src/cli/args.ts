import { parseArgs } from 'node:util';
import { UplineError } from '../core/errors.js';

/**
 * Argument parsing with node's own `util.parseArgs` (no dependency needed for flat
 * `--key value` commands); these helpers turn its results into checked values whose errors
 * name the flag.
 */
export function parseFlags<const T extends Record<string, { type: 'string' | 'boolean' }>>(
  command: string,
  args: readonly string[],
  options: T,
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs explains some errors over several lines; SPEC 5 wants one line on stderr.
    const firstLine = message.split('\n', 1)[0] ?? message;
    throw new UplineError('UPLINE_USAGE', `${command}: ${firstLine.trim()}`);
  }
}

export function required(command: string, flag: string, value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new UplineError('UPLINE_USAGE', `${command}: --${flag} is required`);
  }
  return value;
}

export function integerFlag(
  command: string,
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UplineError(
      'UPLINE_USAGE',
      `${command}: --${flag} must be an integer from ${min} to ${max}, ` +
        `got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}
