// Type-checks one project (`node tools/typecheck.mjs libs/db`): the files under its root, with the
// repository's compiler options, and what they import. It is what lets Nx cache type-checking per
// project; `npm run typecheck` still checks the whole repository as one program.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const projectDir = path.resolve(root, process.argv[2] ?? '') + path.sep;
const host = {
  ...ts.sys,
  getCanonicalFileName: (fileName) => fileName,
  getNewLine: () => ts.sys.newLine,
  onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
    throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  },
};
const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), { noEmit: true }, host);
const rootNames = config.fileNames.filter((fileName) => path.resolve(fileName).startsWith(projectDir));
if (rootNames.length === 0) throw new Error(`no TypeScript files under ${projectDir} in tsconfig.json`);
const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram({ rootNames, options: config.options }));
if (diagnostics.length > 0) {
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exitCode = 1;
}
