import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { compilerOptions } from '../tsconfig.base.json';

const root = path.resolve(__dirname, '..');
const aliases: Record<string, string[]> = compilerOptions.paths;

/** Services that run beside each other under load: each keeps the Prisma client (some 60 MB) out of its process. */
const SERVICES = ['intake', 'audit', 'worker-pismo', 'worker-solaris', 'worker-thales-d1', 'worker-vault'];

/** What loads the Prisma client: the generated client's lib and Prisma's own packages. */
function loadsPrisma(target: string): boolean {
  return target.startsWith('libs/db/') || target.startsWith('@prisma/') || target === 'prisma';
}

/** The modules a file loads when it runs: every import and re-export but `import type` (and imports of types only), which compile away. */
function runTimeImports(file: string, text = readFileSync(path.join(root, file), 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && !importsTypesOnly(node.importClause)) specifiers.push(node.moduleSpecifier.text);
    if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) specifiers.push(node.moduleSpecifier.text);
    const isLoad = ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'));
    if (isLoad && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0])) specifiers.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.map((specifier) => resolve(specifier, file));
}

function importsTypesOnly(clause: ts.ImportClause | undefined): boolean {
  if (!clause) return false; // import 'module': loaded for its effects
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((element) => element.isTypeOnly);
}

/** A workspace file relative to the root, or a package name as written. */
function resolve(specifier: string, from: string): string {
  const aliased = aliases[specifier]?.[0];
  if (aliased) return aliased;
  if (!specifier.startsWith('.')) return specifier;
  const base = path.join(path.dirname(from), specifier);
  const file = [`${base}.ts`, path.join(base, 'index.ts'), base].find((candidate) => existsSync(path.join(root, candidate)));
  if (!file) throw new Error(`${from} imports ${specifier}, which is no file`);
  return file;
}

/** Every chain of run-time imports from `entry` that ends in the Prisma client, and how many workspace files it reaches. */
function prismaChains(entry: string): { chains: string[]; reached: Set<string> } {
  const reached = new Set([entry]);
  const chains: string[] = [];
  const queue: string[][] = [[entry]];
  while (queue.length > 0) {
    const chain = queue.shift()!;
    for (const target of runTimeImports(chain[chain.length - 1])) {
      if (loadsPrisma(target)) chains.push([...chain, target].join(' -> '));
      else if (target.endsWith('.ts') && !reached.has(target)) {
        reached.add(target);
        queue.push([...chain, target]);
      }
    }
  }
  return { chains, reached };
}

describe('the services load no Prisma client at run time', () => {
  it.each(SERVICES)('%s reaches the database through the pg pool only', (service) => {
    const { chains, reached } = prismaChains(`apps/${service}/src/main.ts`);
    expect(chains).toEqual([]);
    expect(reached).toContain('libs/sql/src/pool.ts');
  });

  it('counts the imports that compile to a require, and not those that compile away', () => {
    const source = `
      import type { Prisma } from '@pinflow/db';
      import { type PrismaClient } from '@pinflow/db';
      import { SqlPool } from '@pinflow/sql';
      export { createDatabase } from '@pinflow/db';
      import '@prisma/adapter-pg';
      const later = () => import('./request-writer');`;
    expect(runTimeImports('apps/intake/src/example.ts', source)).toEqual([
      'libs/sql/src/index.ts',
      'libs/db/src/index.ts',
      '@prisma/adapter-pg',
      'apps/intake/src/request-writer.ts',
    ]);
  });
});
