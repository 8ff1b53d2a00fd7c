import { CommandLine } from './command-line';

const USAGE = 'usage: npm run tool -- [--rate R] [--verbose]';
const OPTIONS = { rate: { type: 'string', default: '20' }, verbose: { type: 'boolean', default: false } } as const;

/** What the tool printed and the exit code it ended with, if it ended. */
function run(step: (commandLine: CommandLine) => unknown): { result?: unknown; out: string; err: string; exitCode?: number } {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
    throw Object.assign(new Error('exited'), { exitCode: code });
  });
  try {
    return { result: step(new CommandLine(USAGE)), out: out.join('\n'), err: err.join('\n') };
  } catch (ended) {
    return { out: out.join('\n'), err: err.join('\n'), exitCode: (ended as { exitCode?: number }).exitCode };
  } finally {
    log.mockRestore();
    error.mockRestore();
    exit.mockRestore();
  }
}

describe("a developer tool's command line", () => {
  it('gives the options, defaults filled in', () => {
    expect(run((commandLine) => commandLine.options(OPTIONS, ['--verbose'])).result).toEqual({ rate: '20', verbose: true });
  });

  it('prints the usage for --help and ends with 0', () => {
    const { out, exitCode } = run((commandLine) => commandLine.options(OPTIONS, ['--rate', '5', '--help']));

    expect(exitCode).toBe(0);
    expect(out).toBe(USAGE);
  });

  it('names an unknown option, then the usage, and ends with 2 without a stack trace', () => {
    const { err, exitCode } = run((commandLine) => commandLine.options(OPTIONS, ['--rat', '5']));

    expect(exitCode).toBe(2);
    expect(err.split('\n')).toEqual([expect.stringMatching(/^Unknown option '--rat'/), USAGE]);
  });

  it.each([
    ['abc', false],
    ['0', false],
    ['-1', true],
    ['', true],
  ])('refuses %j as a number (zero allowed: %s), naming the option and the value', (value, allowZero) => {
    const { err, exitCode } = run((commandLine) => commandLine.positive('rate', value, { allowZero }));

    expect(exitCode).toBe(2);
    expect(err).toBe(`--rate must be a ${allowZero ? 'non-negative' : 'positive'} number, not "${value}"\n${USAGE}`);
  });

  it('takes zero where allowed, and fractions', () => {
    expect(run((commandLine) => commandLine.positive('warmup', '0', { allowZero: true })).result).toBe(0);
    expect(run((commandLine) => commandLine.positive('rate', '2.5')).result).toBe(2.5);
  });
});
