// Renders kustomizations (`kubectl kustomize`) and checks every object against the API's schemas,
// offline: the schemas ship in the npm packages kubernetes-models (the Kubernetes API) and
// @kubernetes-models/keda (KEDA's ScaledObject) and @kubernetes-models/prometheus-operator (ServiceMonitor).
//   node tools/deploy/validate-k8s-schemas.mjs deploy/k8s/overlays/dev deploy/k8s/overlays/prod
// Prints one line per problem and exits 1 if there is any. Plain ESM because the schema packages are
// ESM-only, which Jest's CommonJS runtime cannot load; the Jest spec runs this script instead.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/** The schema package of each custom resource's API group; the Kubernetes API's own are in kubernetes-models. */
const CUSTOM_RESOURCE_PACKAGES = { 'keda.sh': '@kubernetes-models/keda', 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };

/** The package module holding the model of one kind, e.g. `kubernetes-models/apps/v1/Deployment`. */
function modelModule(apiVersion, kind) {
  const schemaPackage = CUSTOM_RESOURCE_PACKAGES[apiVersion.split('/')[0]] ?? 'kubernetes-models';
  return `${schemaPackage}/${apiVersion}/${kind}`;
}

const describe = ({ root, object }) => `${root}: ${object?.kind ?? '(no kind)'} ${object?.metadata?.name ?? '(no name)'}`;

/** Types, formats and required fields, by the schema's validator; null when no schema knows the kind. */
async function schemaProblems(rendered) {
  const { object } = rendered;
  const models = await import(modelModule(object.apiVersion, object.kind)).catch(() => ({}));
  const Model = models[object.kind];
  if (!Model) return null;
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${describe(rendered)} (${object.apiVersion}): ${error.message}`];
  }
}

// "Object literal may only specify known properties" (2353), with a suggestion (2561).
const UNKNOWN_PROPERTY = new Set([2353, 2561]);

/**
 * Fields the API does not know (a misspelt `readOnlyRootFilesystem` is silently dropped by the API
 * server, and the schemas' validators allow extra fields): each object is type-checked as an object
 * literal of the package's TypeScript interface for its kind, whose excess-property check names them.
 */
function unknownFieldProblems(checked) {
  const objects = checked.map(({ object }) => object);
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'manifests.generated.mts');
  // Two lines an object, so a diagnostic's line tells which object it is about.
  const source = objects
    .map((object, index) => `import type { I${object.kind} as T${index} } from '${modelModule(object.apiVersion, object.kind)}';\nexport const o${index}: T${index} = ${JSON.stringify(object)};`)
    .join('\n');
  const options = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.getSourceFile = (name, ...rest) => (name === file ? ts.createSourceFile(name, source, ts.ScriptTarget.ES2022) : getSourceFile(name, ...rest));
  return ts
    .getPreEmitDiagnostics(ts.createProgram([file], options, host))
    .filter((diagnostic) => UNKNOWN_PROPERTY.has(diagnostic.code) && diagnostic.file?.fileName === file)
    .map((diagnostic) => {
      const culprit = checked[Math.floor(diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line / 2)];
      return `${describe(culprit)} (${culprit.object.apiVersion}): ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
    });
}

/** kustomize as kubectl embeds it: every machine image of this project has kubectl. */
function render(root) {
  try {
    return execFileSync('kubectl', ['kustomize', root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    console.log(`${root}: kubectl kustomize failed: ${error.stderr?.trim() || error.message}`);
    process.exit(1);
  }
}

const problems = [];
const known = [];
for (const root of process.argv.slice(2)) {
  for (const document of parseAllDocuments(render(root))) {
    if (document.errors.length > 0) {
      problems.push(...document.errors.map((error) => `${root}: YAML: ${error.message}`));
      continue;
    }
    const rendered = { root, object: document.toJS() };
    if (rendered.object === null) continue;
    if (typeof rendered.object.apiVersion !== 'string' || typeof rendered.object.kind !== 'string') {
      problems.push(`${describe(rendered)}: apiVersion and kind are required`);
      continue;
    }
    const invalid = await schemaProblems(rendered);
    if (invalid === null) {
      problems.push(`${describe(rendered)}: no schema for ${rendered.object.apiVersion} ${rendered.object.kind}`);
      continue;
    }
    problems.push(...invalid);
    known.push(rendered);
  }
}
problems.push(...unknownFieldProblems(known));
for (const problem of problems) console.log(problem);
process.exit(problems.length > 0 ? 1 : 0);
