import { loadConfig } from '@pinflow/config';
import { createSqlPool } from '@pinflow/sql';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CardOwners, CardOwnersFileError, parseCardOwners } from '../apps/intake/src/card-owners';

/**
 * Administration of intake's card-ownership registry (which tenant's callers may change a card's PIN
 * or its PIN tries while INTAKE_CARD_OWNERSHIP is enforced), on the DATABASE_URL intake uses:
 *   npm run cards -- import <file>   each line `tenant,vendor,cardId` (# comments): adds the cards, or moves them to that tenant
 *   npm run cards -- remove <file>   the same lines: takes the cards out of the registry (their tenant is not checked)
 * A file with any wrong line changes nothing.
 */
async function main(): Promise<void> {
  const [command, file] = process.argv.slice(2);
  if ((command !== 'import' && command !== 'remove') || !file) throw new CardOwnersFileError('usage: npm run cards -- import|remove <file of tenant,vendor,cardId lines>');
  const owners = parseCardOwners(await readFile(file, 'utf8'));
  const { DATABASE_URL } = loadConfig('cards', z.object({ DATABASE_URL: z.url() }));
  const pool = createSqlPool(DATABASE_URL, 1);
  try {
    const registry = new CardOwners(pool);
    if (command === 'import') {
      const { added, moved, unchanged } = await registry.assign(owners);
      process.stdout.write(`${owners.length} cards read: ${added} added, ${moved} moved to another tenant, ${unchanged} unchanged\n`);
    } else {
      process.stdout.write(`${owners.length} cards read: ${await registry.remove(owners)} removed\n`);
    }
  } finally {
    await pool.end();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error instanceof CardOwnersFileError ? error.message : (error.stack ?? error.message)}\n`);
  process.exitCode = 1;
});
