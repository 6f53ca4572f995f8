import { AssertionError } from '../core/assert.js';
import { UplineError } from '../core/errors.js';
import { exportCommand } from './export-command.js';
import { generateCommand } from './generate-command.js';
import { replayCommand } from './replay.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token-command.js';

const USAGE = `usage:
  upline serve [--config FILE]
  upline replay --plan FILE --events FILE --db FILE [--workers N] [--batch N]
    [--distributor-capacity N] [--order-capacity N] [--event-capacity N]
  upline export --db FILE
  upline generate --distributors N --orders M [--seed S] [--period-orders K] --out FILE
  upline token [--config FILE] --distributor ID`;

/** The CLI's entry: the only place that sets the exit code (STYLE 15). */
async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve': {
      const stop = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await serveCommand(args, (line) => console.log(line), stop);
      return 0;
    }
    case 'replay':
      console.log(JSON.stringify(await replayCommand(args)));
      return 0;
    case 'export':
      await exportCommand(args, (text) => process.stdout.write(text));
      return 0;
    case 'generate':
      console.log(JSON.stringify(generateCommand(args)));
      return 0;
    case 'token':
      console.log(tokenCommand(args));
      return 0;
    case undefined:
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`upline: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 1;
  }
}

// A reader that stops early (`upline export --db x | head`) is not an error of ours: end quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UplineError) {
      console.error(`upline: ${error.message} (${error.code})`);
      process.exitCode = 1;
      return;
    }
    // An assertion or any other bug: loud, with the stack, and a distinct exit code.
    if (error instanceof AssertionError) console.error('upline: internal assertion failed');
    console.error(error);
    process.exitCode = 2;
  },
);
