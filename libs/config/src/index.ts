import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Thrown when a service's environment does not satisfy its schema; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly service: string, readonly problems: string[]) {
    super(`${service} refuses to start: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment with a zod schema. Problems name the variable and the rule, never the value
 * (a variable may hold a secret).
 */
export function loadConfig<S extends z.ZodType>(service: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `${name}: ${issue.message}`;
  });
  throw new ConfigError(service, problems);
}

/**
 * Reads the JSON file a variable names and parses it with `schema`, refusing to start (ConfigError)
 * when it cannot. Problems name the variable, the file and the rule, never the content: the file may
 * hold a key.
 */
export function loadJsonFile<S extends z.ZodType>(service: string, variable: string, file: string, schema: S): z.output<S> {
  const refuse = (problems: string[]) => new ConfigError(service, problems.map((problem) => `${variable} (${file}): ${problem}`));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw refuse([`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw refuse(['is not JSON']);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw refuse(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`));
  return parsed.data;
}

/** Comma-separated list, e.g. KAFKA_BROKERS=127.0.0.1:9092,127.0.0.1:9094. */
export const commaList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.string()).min(1, 'must list at least one entry'));

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** A variable holding JSON, parsed before the schema it is piped to applies: `jsonText.pipe(schema)`. */
export const jsonText = z.string().transform((text, context): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    context.addIssue({ code: 'custom', message: 'must be JSON' });
    return z.NEVER;
  }
});

/**
 * A variable that no longer means anything: setting it refuses the start-up, saying what replaced it, so a
 * deployment still relying on it learns so at once instead of silently running without it.
 */
export function removedSetting(replacement: string) {
  return z.undefined({ error: `was removed: ${replacement}` }).optional();
}

/** HTTP listener shared by every service. */
export const httpConfig = {
  HOST: z.string().default('127.0.0.1'),
  PORT: port,
  /** How long a SIGTERM may take before the process exits anyway (below Kubernetes' 30 s grace). */
  SHUTDOWN_GRACE_MS: positiveInt.default(25_000),
};

export const logConfig = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/**
 * Runs a service's start-up; a ConfigError is printed as the service's last words and the process
 * exits 78 (EX_CONFIG) so orchestrators see a configuration failure, not a crash loop of stack traces.
 */
export async function startOrExit(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
