import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The options of a developer tool run as `npm run <tool> -- …`: `--help` prints its usage, and an
 * unknown option or a bad value ends it with one line saying what is wrong, then the usage (exit
 * code 2), instead of a stack trace.
 */
export class CommandLine {
  constructor(private readonly usage: string) {}

  options<T extends ParseArgsConfig['options']>(options: T, args = process.argv.slice(2)) {
    if (args.includes('--help')) {
      console.log(this.usage);
      process.exit(0);
    }
    try {
      return parseArgs({ args, options }).values;
    } catch (error) {
      return this.fail((error as Error).message);
    }
  }

  fail(message: string): never {
    console.error(`${message}\n${this.usage}`);
    process.exit(2);
  }

  /** The option's value as a number above zero (or zero too, when allowed). */
  positive(name: string, value: string | undefined, { allowZero = false } = {}): number {
    const number = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
      this.fail(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, not "${value}"`);
    }
    return number;
  }
}
