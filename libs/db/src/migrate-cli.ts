import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { defaultMigrationsDir, migrateDeploy } from './migrate';

/** Prisma's own schema engine, when this machine could download it. */
function prismaSchemaEngine(repo: string): string | undefined {
  const configured = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
  if (configured && existsSync(configured) && path.basename(configured).startsWith('schema-engine')) return configured;
  const enginesDir = path.join(repo, 'node_modules', '@prisma', 'engines');
  const found = existsSync(enginesDir) ? readdirSync(enginesDir).find((file) => file.startsWith('schema-engine')) : undefined;
  return found && path.join(enginesDir, found);
}

// `prisma migrate deploy` where Prisma's engine is available; the exact equivalent otherwise.
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const migrationsDir = process.argv[2] ?? defaultMigrationsDir();
  const repo = path.dirname(path.dirname(migrationsDir));
  const engine = prismaSchemaEngine(repo);
  if (engine) {
    execFileSync(process.execPath, [path.join(repo, 'node_modules/prisma/build/index.js'), 'migrate', 'deploy'], {
      cwd: repo,
      stdio: 'inherit',
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: engine },
    });
    return;
  }
  const { applied } = await migrateDeploy(url, migrationsDir);
  console.log(applied.length > 0 ? `Applied ${applied.join(', ')}` : 'No pending migrations to apply.');
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
