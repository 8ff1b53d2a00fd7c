// Checks Kubernetes objects against the API's schemas, offline: the schemas ship in the npm packages
// kubernetes-models (the Kubernetes API) and @kubernetes-models/keda (KEDA's ScaledObject).
//   kubectl kustomize deploy/k8s/overlays/prod | node tools/deploy/validate-k8s-schemas.mjs
// Prints one line per problem and exits 1 if there is any. Plain ESM because the schema packages are
// ESM-only, which Jest's CommonJS runtime cannot load; the Jest spec runs this script instead.
import { text } from 'node:stream/consumers';
import { parseAllDocuments } from 'yaml';

/** The package module holding the model of one kind, e.g. `kubernetes-models/apps/v1/Deployment`. */
function modelModule(apiVersion, kind) {
  const schemaPackage = apiVersion.startsWith('keda.sh/') ? '@kubernetes-models/keda' : 'kubernetes-models';
  return `${schemaPackage}/${apiVersion}/${kind}`;
}

async function problemsOf(object) {
  const { apiVersion, kind } = object ?? {};
  const name = `${kind ?? '(no kind)'} ${object?.metadata?.name ?? '(no name)'}`;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return [`${name}: apiVersion and kind are required`];
  const models = await import(modelModule(apiVersion, kind)).catch(() => ({}));
  const Model = models[kind];
  if (!Model) return [`${name}: no schema for ${apiVersion} ${kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${name} (${apiVersion}): ${error.message}`];
  }
}

const documents = parseAllDocuments(await text(process.stdin));
const problems = [];
for (const document of documents) {
  if (document.errors.length > 0) problems.push(...document.errors.map((error) => `YAML: ${error.message}`));
  else if (document.contents !== null) problems.push(...(await problemsOf(document.toJS())));
}
for (const problem of problems) console.log(problem);
process.exit(problems.length > 0 ? 1 : 0);
