import { VENDOR_CONTRACTS, VENDORS } from '@pinflow/contracts';
import { repoRoot } from '@pinflow/testing';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { VENDOR_PLATFORMS } from './vendors';

/** The one place that lists the vendors. */
const REGISTRY = 'libs/contracts/src/vendors/index.ts';
const SOURCE_ROOTS = ['apps', 'libs', 'tools', 'eslint.config.mjs', 'jest.config.js'];
const SKIPPED = new Set(['node_modules', 'dist', 'generated', 'kafka-local', 'coverage']);
/** Tests may name the vendors they exercise; a test that leaves a new vendor out still passes. */
const TESTS = /\.(spec|int-spec|e2e-spec)\.ts$/;

function sourceFiles(entry: string): string[] {
  const full = path.join(repoRoot, entry);
  if (statSync(full).isFile()) return /\.(ts|mjs|js)$/.test(entry) && !TESTS.test(entry) ? [entry] : [];
  return readdirSync(full).flatMap((name) => (SKIPPED.has(name) ? [] : sourceFiles(path.join(entry, name))));
}

/** A vendor's name, or the name of one of its apps. */
function vendorNamed(text: string | undefined): string | undefined {
  return VENDORS.find((vendor) => text === vendor || text === `worker-${vendor}` || text === `sandbox-${vendor}`);
}

function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteralLike(node) || ts.isIdentifier(node)) return node.text;
  if (ts.isLiteralTypeNode(node) && ts.isStringLiteralLike(node.literal)) return node.literal.text;
  if (ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) return literalText(node.name);
  return undefined;
}

/**
 * Where code lists vendors by name: an array, object, union type or switch naming two vendors or
 * more. Each such list is one more file to edit when a vendor is added, and one more that can
 * forget it: lists are derived from the registry instead.
 */
function vendorLists(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    let members: readonly ts.Node[] | undefined;
    if (ts.isArrayLiteralExpression(node)) members = node.elements;
    else if (ts.isObjectLiteralExpression(node)) members = node.properties;
    else if (ts.isUnionTypeNode(node)) members = node.types;
    else if (ts.isCaseBlock(node)) members = node.clauses.flatMap((clause) => (ts.isCaseClause(clause) ? [clause.expression] : []));
    const vendors = new Set((members ?? []).map((member) => vendorNamed(literalText(member))).filter(Boolean));
    if (vendors.size >= 2) found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} lists ${[...vendors].join(', ')}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the vendor registry', () => {
  it('is the one list of vendors: no other source file lists them', () => {
    const files = SOURCE_ROOTS.flatMap((root) => sourceFiles(root)).filter((file) => file !== REGISTRY);
    expect(files.length).toBeGreaterThan(200);

    expect(files.flatMap((file) => vendorLists(file, readFileSync(path.join(repoRoot, file), 'utf8')))).toEqual([]);
  });

  it.each([
    ['an array', "const apps = ['worker-pismo', 'worker-vault'];"],
    ['a union type', "type Name = 'solaris' | 'thales-d1';"],
    ['an object keyed by vendor', "const rules = { pismo: 1, 'thales-d1': 2 };"],
    ['a switch', "switch (vendor) { case 'pismo': case 'solaris': break; }"],
  ])('would find a list of vendors written as %s', (_form, code) => {
    expect(vendorLists('sample.ts', code)).toHaveLength(1);
  });

  it('lets code name one vendor', () => {
    expect(vendorLists('sample.ts', "if (vendor === 'pismo') topics.push('pismo.events');")).toEqual([]);
  });

  it("has each vendor's platform part, in the contracts' order", () => {
    expect(VENDOR_PLATFORMS.map((platform) => platform.contract)).toEqual([...VENDOR_CONTRACTS]);
  });
});
