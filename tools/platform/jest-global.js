// Jest's globalSetup/globalTeardown run outside Jest's module mapping, so they load the compiled
// platform code from dist/ (with the @pinflow/* aliases resolved), building it first.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

module.exports = {
  async setup() {
    execFileSync(process.execPath, [path.join(root, 'tools/build.mjs')], { stdio: 'inherit' });
    await require(path.join(root, 'dist/tools/platform/global-setup.js')).default();
  },
  async teardown() {
    await require(path.join(root, 'dist/tools/platform/global-teardown.js')).default();
  },
};
