import { generateToFile, type GenerateStats } from '../generate/generate.js';
import { integerFlag, parseFlags, required } from './args.js';

const COMMAND = 'generate';

/** `upline generate`: a seeded, realistic event file; the same seed gives the same bytes. */
export function generateCommand(args: readonly string[]): GenerateStats {
  const flags = parseFlags(COMMAND, args, {
    distributors: { type: 'string' },
    orders: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'period-orders': { type: 'string' },
  });
  const distributors = integerFlag(
    COMMAND,
    'distributors',
    required(COMMAND, 'distributors', flags.distributors),
    0,
    1,
    100_000_000,
  );
  const orders = integerFlag(
    COMMAND,
    'orders',
    required(COMMAND, 'orders', flags.orders),
    0,
    0,
    1e9,
  );
  const seed = integerFlag(COMMAND, 'seed', flags.seed, 1, 0, 2 ** 32 - 1);
  const out = required(COMMAND, 'out', flags.out);
  const periodFlag = flags['period-orders'];
  const options =
    periodFlag === undefined
      ? { distributors, orders, seed }
      : {
          distributors,
          orders,
          seed,
          periodOrders: integerFlag(COMMAND, 'period-orders', periodFlag, 0, 1, 1e9),
        };
  return generateToFile(options, out);
}
