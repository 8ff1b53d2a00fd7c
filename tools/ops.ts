import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  cardHistoryPage,
  describeRefusal,
  formatRequestStatus,
  formatPushSettlement,
  formatTimeline,
  parseOperatorCommand,
  pushSettlement,
  requestStatus,
  type AuditedEvent,
} from './ops-cli';
import { callService, getJson, parseAnswer, serviceEndpoint } from './service-client';

/**
 * The operator's command line: `npm run ops -- <command>` (see OPS_USAGE in ops-cli.ts). `dlq` and
 * `audit verify` run the tools behind `npm run dlq` and `npm run audit`; `history`, `status` and
 * `d1-settle` ask the running audit and intake services.
 */

/** The audit service's largest page. */
const AUDIT_PAGE_LIMIT = 200;

/** The card's newest `limit` events, pages fetched newest first, printed oldest first. */
async function history(cardId: string, limit: number): Promise<void> {
  const audit = serviceEndpoint('audit', 'AUDIT_URL', 'audit');
  const events: AuditedEvent[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(Math.min(AUDIT_PAGE_LIMIT, limit - events.length)) });
    if (cursor) query.set('cursor', cursor);
    const page = await getJson(audit, `/v1/cards/${encodeURIComponent(cardId)}/events?${query}`, cardHistoryPage, `audit has no history of card ${cardId}`);
    events.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor && events.length < limit);
  if (events.length === 0) {
    console.log(`card ${cardId}: no events in the audit trail`);
    return;
  }
  console.log(`card ${cardId}: ${events.length} event(s)${cursor ? `, the newest ${limit} (older ones: --limit)` : ''}`);
  for (const line of formatTimeline(events.reverse())) console.log(`  ${line}`);
}

async function status(requestId: string): Promise<void> {
  const intake = serviceEndpoint('intake', 'INTAKE_URL', 'intake');
  const request = await getJson(intake, `/v1/requests/${requestId}`, requestStatus, `intake has no request ${requestId}`);
  for (const line of formatRequestStatus(request)) console.log(line);
}

/** Tells intake what the processor did with a D1 push of unknown outcome; intake refuses (409) anything but that push. */
async function settleD1Push({ issuerId, cardId, commandId, succeeded }: { issuerId: string; cardId: string; commandId: string; succeeded: boolean }): Promise<void> {
  const intake = serviceEndpoint('intake', 'INTAKE_URL', 'intake');
  const answer = await callService(intake, 'POST', '/v1/operator/d1/push-settlements', { issuerId, cardId, commandId, succeeded });
  if (answer.status !== 200) throw new Error(describeRefusal(intake, answer.status, answer.body, 'intake does not settle D1 pushes'));
  console.log(formatPushSettlement(issuerId, cardId, parseAnswer(intake, answer.body, pushSettlement)));
}

/** Runs one of the existing operator tools with the operator's arguments, its output and exit code as they are. */
function runTool(script: string, args: string[]): void {
  const result = spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit' });
  if (result.error) throw result.error;
  process.exitCode = result.status ?? 1;
}

async function main(): Promise<void> {
  const command = parseOperatorCommand(process.argv.slice(2));
  switch (command.command) {
    case 'dlq':
      return runTool('dlq.js', command.args);
    case 'audit':
      return runTool('audit.js', command.args);
    case 'history':
      return history(command.cardId, command.limit);
    case 'status':
      return status(command.requestId);
    case 'd1-settle':
      return settleD1Push(command);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
