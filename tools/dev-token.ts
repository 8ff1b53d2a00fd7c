// Prints a development access token signed with the local dev key, which services trust when their
// AUTH_PUBLIC_KEY_FILE points at the key's public half.
import { parseArgs } from 'node:util';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_SIGNING_KEY_FILE,
  loadOrCreateDevSigningKey,
  mintToken,
  PIN_READ_SCOPE,
  PIN_WRITE_SCOPE,
} from '@pinflow/auth';

const USAGE = `Usage: node dist/tools/dev-token.js [--scopes pin:write,pin:read] [--sub dev] [--tenant acme] [--ttl 15m] [--iss ${DEV_ISSUER}] [--aud ${DEV_AUDIENCE}]

Reads the signing key from AUTH_DEV_SIGNING_KEY_FILE (default ${DEV_SIGNING_KEY_FILE}) and creates it,
with its public half *.pub.json for AUTH_PUBLIC_KEY_FILE, when it does not exist yet.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scopes: { type: 'string', default: `${PIN_WRITE_SCOPE},${PIN_READ_SCOPE}` },
      sub: { type: 'string', default: 'dev' },
      tenant: { type: 'string' },
      ttl: { type: 'string', default: '15m' },
      iss: { type: 'string', default: DEV_ISSUER },
      aud: { type: 'string', default: DEV_AUDIENCE },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const keyFile = process.env.AUTH_DEV_SIGNING_KEY_FILE ?? DEV_SIGNING_KEY_FILE;
  const { key, publicKeyFile, created } = await loadOrCreateDevSigningKey(keyFile);
  if (created) console.error(`Created dev signing key ${keyFile}; services verify with AUTH_PUBLIC_KEY_FILE=${publicKeyFile}`);

  const token = await mintToken({
    privateKey: key.privateJwk,
    kid: key.kid,
    issuer: values.iss,
    audience: values.aud,
    subject: values.sub,
    tenant: values.tenant,
    scopes: values.scopes.split(',').map((scope) => scope.trim()).filter(Boolean),
    expiresIn: values.ttl,
  });
  console.log(token);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(USAGE);
  process.exitCode = 1;
});
