// Two projects: `unit` needs nothing running; `integration` (integration and end-to-end tests) gets a
// real Kafka broker and a real PostgreSQL database from globalSetup, started by the project's own scripts.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  moduleNameMapper,
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

module.exports = {
  // Per-project testTimeout is ignored by Jest 30; integration and end-to-end tests need minutes.
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/libs/testing/summary-reporter.js'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts', '<rootDir>/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/tools/platform/jest-global-setup.js',
      globalTeardown: '<rootDir>/tools/platform/jest-global-teardown.js',
    },
  ],
};
