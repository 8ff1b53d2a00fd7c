import { EVENT_TYPES } from './events';

/** The event types worded apart from a success. */
const WORDED_TYPES = { accepted: EVENT_TYPES.accepted, failed: EVENT_TYPES.failed, rejected: EVENT_TYPES.rejected };

export type OutcomeKind = 'accepted' | 'failed' | 'rejected' | 'succeeded';

export interface OutcomeWording {
  text: string;
  kind: OutcomeKind;
}

/**
 * What an event says about its request, as operators read it in the console and the ops CLI alike:
 * `failed <reason> (vendor HTTP <status> <code>)`, `rejected <problem code>`, `accepted`, `succeeded`.
 * Only those fields of `data`, and only when they are strings or numbers: nothing else an event holds
 * is ever shown. Self-contained but for WORDED_TYPES, because audit serves this very function's source
 * to the console's page (outcomeWordingScript), where no module system exists.
 */
export function describeOutcome(type: string, data: unknown): OutcomeWording {
  const shown = (value: unknown): string | undefined => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
  const field = (value: unknown, name: string): unknown => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined);
  if (type === WORDED_TYPES.failed) {
    const vendorAnswer = [shown(field(data, 'vendorStatus')) && `HTTP ${shown(field(data, 'vendorStatus'))}`, shown(field(field(data, 'vendorError'), 'code'))]
      .filter(Boolean)
      .join(' ');
    return { text: `failed ${shown(field(data, 'reason')) ?? '?'}${vendorAnswer ? ` (vendor ${vendorAnswer})` : ''}`, kind: 'failed' };
  }
  if (type === WORDED_TYPES.rejected) return { text: `rejected ${shown(field(field(data, 'problem'), 'code')) ?? '?'}`, kind: 'rejected' };
  if (type === WORDED_TYPES.accepted) return { text: 'accepted', kind: 'accepted' };
  return { text: 'succeeded', kind: 'succeeded' };
}

/**
 * describeOutcome for a browser page without a bundler: a classic script that defines
 * `window.pinflowOutcome`, built from the function's own compiled source, so the console and the CLI
 * cannot word an outcome differently.
 */
export function outcomeWordingScript(): string {
  return [
    "'use strict';",
    '// Served by audit from describeOutcome in libs/contracts/src/outcome-wording.ts, the wording the ops CLI prints too.',
    'window.pinflowOutcome = (() => {',
    `  const WORDED_TYPES = ${JSON.stringify(WORDED_TYPES)};`,
    `  return ${describeOutcome.toString()};`,
    '})();',
    '',
  ].join('\n');
}
