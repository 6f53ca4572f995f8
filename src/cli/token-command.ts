import { loadConfig } from '../config/config.js';
import { DISTRIBUTOR_ID_MAX } from '../events/validate.js';
import { distributorToken } from '../server/tokens.js';
import { integerFlag, parseFlags, required } from './args.js';

const COMMAND = 'token';

/** `upline token [--config FILE] --distributor ID`: that distributor's dashboard token. */
export function tokenCommand(args: readonly string[]): string {
  const flags = parseFlags(COMMAND, args, {
    config: { type: 'string' },
    distributor: { type: 'string' },
  });
  const text = required(COMMAND, 'distributor', flags.distributor);
  const id = integerFlag(COMMAND, 'distributor', text, 0, 1, DISTRIBUTOR_ID_MAX);
  return distributorToken(loadConfig(flags.config).secret, id);
}
