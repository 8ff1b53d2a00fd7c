import nx from '@nx/eslint-plugin';
import { readdirSync, readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';

// Boundaries: apps import libs, never each other; libs never import apps; one vendor's code is
// never imported by another vendor's. Enforced from the `tags` in each project.json: a vendor is
// whatever an app's `vendor:<name>` tag names, so a new vendor's apps bring their own boundary.
const VENDORS = [
  ...new Set(
    readdirSync(new URL('apps', import.meta.url)).flatMap((app) => {
      const { tags = [] } = JSON.parse(readFileSync(new URL(`apps/${app}/project.json`, import.meta.url), 'utf8'));
      return tags.filter((tag) => tag.startsWith('vendor:')).map((tag) => tag.slice('vendor:'.length));
    }),
  ),
];

export default tseslint.config(
  { ignores: ['**/*.js', '**/*.mjs', 'dist/**', 'node_modules/**', 'libs/db/src/generated/**', 'coverage/**', '.pinflow/**', 'tools/kafka-local/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:tooling'] },
            { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:lib', 'type:tooling'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            // Test support depends on no pinflow library, so every library's tests can use it without a cycle.
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:testing'] },
            ...VENDORS.map((vendor) => ({
              sourceTag: `vendor:${vendor}`,
              notDependOnLibsWithTags: VENDORS.filter((other) => other !== vendor).map((other) => `vendor:${other}`),
            })),
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
