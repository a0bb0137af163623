/**
 * The headless runner: the lab's engine from a command line (npm run lab -- <command>).
 * Exit codes: 0 done, 2 bad input (flags, config, data files), 1 anything else.
 */
import { helpText, UsageError } from './args';
import { SCORE_FLAGS, SCORE_SUMMARY } from './scoreFlags';
import { TRAIN_FLAGS, TRAIN_SUMMARY } from './trainFlags';

/** Each command is loaded when it runs: scoring needs no tfjs. */
const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  train: async (argv) => (await import('./train')).trainCommand(argv),
  score: async (argv) => (await import('./score')).scoreCommand(argv),
};

function usage(): string {
  return [
    'RecSys Compression Lab, headless runner',
    '',
    'npm run lab -- <command> [flags]     (npm run lab -- <command> --help for its flags)',
    '',
    'Commands:',
    '  train   train and compress one run from a config file',
    '  score   score raw rows with an exported model file (no tfjs)',
    '',
    helpText('train', TRAIN_SUMMARY, TRAIN_FLAGS),
    helpText('score', SCORE_SUMMARY, SCORE_FLAGS),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help' || command === '-h') {
    process.stdout.write(usage());
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run)
    throw new UsageError(
      `unknown command "${command}" (one of ${Object.keys(COMMANDS).join(', ')})`,
    );
  await run(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`\nlab: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(
        `\nlab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
