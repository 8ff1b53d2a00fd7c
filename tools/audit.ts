import { parseArgs } from 'node:util';
import { describeFinding, verifyAuditChains } from './audit-chain';

/**
 * Operator command for the audit trail.
 *   npm run audit -- verify      walks every card's hash chain in audit_events; lists each altered,
 *                                deleted or inserted row and exits 1 if there is any
 * Reads DATABASE_URL; any role that may SELECT audit_events will do (pinflow_audit_writer, say).
 */
async function main(): Promise<void> {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  if (positionals[0] !== 'verify') throw new Error('usage: npm run audit -- verify');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: name the database whose audit_events to verify (postgresql://…)');

  const { events, cards, findings } = await verifyAuditChains(databaseUrl);
  for (const finding of findings) console.log(describeFinding(finding));
  console.log(`${events} event(s) in ${cards} card chain(s): ${findings.length === 0 ? 'intact' : `${findings.length} finding(s)`}`);
  if (findings.length > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(2);
});
