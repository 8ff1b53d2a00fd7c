import { EVENT_TYPES } from '@pinflow/contracts';
import { describeRefusal, describeUnreachable, formatPushSettlement, formatRequestStatus, formatTimeline, parseOperatorCommand, pushSettlement, ServiceEndpoint } from './ops-cli';

const REQUEST_ID = '0b7f6d1c-8f5e-4c3a-9a0e-1b2c3d4e5f60';
const localAudit: ServiceEndpoint = { name: 'audit', baseUrl: 'http://127.0.0.1:8081', variable: 'AUDIT_URL', isLocalDefault: true };

describe('npm run ops: arguments', () => {
  it('hands dlq and audit their own arguments untouched, flags included', () => {
    expect(parseOperatorCommand(['dlq', 'replay', '--offset', '12', '--offset', '13'])).toEqual({ command: 'dlq', args: ['replay', '--offset', '12', '--offset', '13'] });
    expect(parseOperatorCommand(['audit', 'verify'])).toEqual({ command: 'audit', args: ['verify'] });
  });

  it('reads a card history with a default and an explicit limit', () => {
    expect(parseOperatorCommand(['history', 'card_42'])).toEqual({ command: 'history', cardId: 'card_42', limit: 50 });
    expect(parseOperatorCommand(['history', 'card_42', '--limit', '500'])).toEqual({ command: 'history', cardId: 'card_42', limit: 500 });
  });

  it('reads a request status by its id', () => {
    expect(parseOperatorCommand(['status', REQUEST_ID])).toEqual({ command: 'status', requestId: REQUEST_ID });
  });

  it("settles a D1 push with the operator's finding, whichever order the flags come in", () => {
    const settlement = { command: 'd1-settle', issuerId: 'ISSUER0001', cardId: 'card_42', commandId: REQUEST_ID };
    expect(parseOperatorCommand(['d1-settle', 'ISSUER0001', 'card_42', '--command', REQUEST_ID, '--succeeded'])).toEqual({ ...settlement, succeeded: true });
    expect(parseOperatorCommand(['d1-settle', '--failed', 'ISSUER0001', '--command', REQUEST_ID, 'card_42'])).toEqual({ ...settlement, succeeded: false });
  });

  it.each([
    [['d1-settle', 'ISSUER0001', 'card_42', '--command', REQUEST_ID], /^succeeded: say what the processor did: --succeeded or --failed/],
    [['d1-settle', 'ISSUER0001', 'card_42', '--command', REQUEST_ID, '--succeeded', '--failed'], /^succeeded: say what the processor did/],
    [['d1-settle', 'ISSUER0001', 'card_42', '--succeeded'], /^commandId: must be the command id \(UUID\) of the push/],
    [['d1-settle', 'ISSUER0001', 'card_42', '--command', 'not-a-uuid', '--failed'], /^commandId: must be the command id/],
    [['d1-settle', 'card_42', '--command', REQUEST_ID, '--failed'], /^cardId: /],
    [['d1-settle', 'ISSUER/1', 'card_42', '--command', REQUEST_ID, '--failed'], /^issuerId: must be letters, digits, _ or -\n/],
    [['d1-settle', 'ISSUER0001', 'card_42', 'card_43', '--command', REQUEST_ID, '--failed'], /^d1-settle takes two arguments, got 3\n/],
    [['d1-settle', 'ISSUER0001', 'card_42', '--command', REQUEST_ID, '--failed', '--force'], /^d1-settle: Unknown option '--force'.*\nusage/s],
    [['status', REQUEST_ID, '--succeeded'], /^status: Unknown option '--succeeded'/],
  ])('refuses the D1 settlement %j, naming what is wrong', (argv, message) => {
    expect(() => parseOperatorCommand(argv)).toThrow(message);
  });

  it.each([
    [[], /^no command\nusage: npm run ops/],
    [['purge'], /^unknown command purge\nusage/],
    [['status', 'not-a-uuid'], /^requestId: must be a request id \(UUID\)\n/],
    [['status'], /^requestId: must be a request id/],
    [['history', 'card/../x'], /^cardId: must be letters, digits, _ or -\n/],
    [['history', 'card_42', '--limit', '0'], /^limit: /],
    [['history', 'card_1', 'card_2'], /^history takes one argument, got 2\n/],
  ])('refuses %j with the argument at fault, then the usage', (argv, message) => {
    expect(() => parseOperatorCommand(argv)).toThrow(message);
  });
});

describe('npm run ops: timeline', () => {
  it('prints time, event type, vendor, operation, request and outcome, one event a line', () => {
    const lines = formatTimeline([
      {
        id: 'e1',
        type: EVENT_TYPES.accepted,
        time: '2026-12-04T10:00:00.000Z',
        data: { vendor: 'pismo', operation: 'change-pin', requestId: REQUEST_ID, commandId: REQUEST_ID, caller: 'app' },
      },
      {
        id: 'e2',
        type: EVENT_TYPES.failed,
        time: '2026-12-04T10:00:01.000Z',
        data: { vendor: 'pismo', operation: 'change-pin', requestId: REQUEST_ID, reason: 'VENDOR_REJECTED', vendorStatus: 422, vendorError: { code: 'WEAK_PIN', detail: 'vendor words' } },
      },
      { id: 'e3', type: EVENT_TYPES.cardBlocked, time: '2026-12-04T10:00:02.000Z', data: { vendor: 'pismo' } },
      { id: 'e4', type: EVENT_TYPES.rejected, time: '2026-12-04T10:00:03.000Z', data: { clientRequestId: 'k1', problem: { code: 'PIN_TOO_WEAK', status: 422 } } },
    ]);

    expect(lines.map((line) => line.split(/\s+/))).toEqual([
      ['2026-12-04T10:00:00.000Z', 'pin_change.accepted', 'pismo', 'change-pin', 'request', REQUEST_ID, 'accepted'],
      ['2026-12-04T10:00:01.000Z', 'pin_change.failed', 'pismo', 'change-pin', 'request', REQUEST_ID, 'failed', 'VENDOR_REJECTED', '(vendor', 'HTTP', '422', 'WEAK_PIN)'],
      ['2026-12-04T10:00:02.000Z', 'card.blocked', 'pismo', '-', 'request', '-', 'succeeded'],
      ['2026-12-04T10:00:03.000Z', 'pin_change.rejected', '-', '-', 'request', '-', 'rejected', 'PIN_TOO_WEAK'],
    ]);
  });

  it('prints only the fields it knows, whatever else an event carries', () => {
    const [line] = formatTimeline([
      { id: 'e1', type: EVENT_TYPES.passwordChanged, time: '2026-12-04T10:00:00.000Z', data: { vendor: 'vault', caller: 'subject-x', tenant: 'acme', pin: '1234', note: 'free text' } },
    ]);

    expect(line).not.toMatch(/subject-x|acme|1234|free text/);
  });

  it('heads a request status with who, what and when, then its events', () => {
    const lines = formatRequestStatus({
      requestId: REQUEST_ID,
      status: 'accepted',
      vendor: 'solaris',
      operation: 'change-pin',
      cardId: 'card_7',
      acceptedAt: '2026-12-04T10:00:00.000Z',
      completedAt: null,
      events: [],
    });

    expect(lines).toEqual([`request ${REQUEST_ID}: accepted`, '  solaris change-pin on card card_7, accepted 2026-12-04T10:00:00.000Z, not completed yet']);
  });
});

describe('npm run ops: d1-settle', () => {
  const answer = { commandId: REQUEST_ID, succeeded: true, changeCounter: 3, settledBy: 'pinflow-ops:alice', settledAt: '2026-12-05T10:00:00.000Z', repeated: false };

  it('says the counter stayed when the push it settled as succeeded had a stale block, and reads an intake that does not say so as counted', () => {
    expect(formatPushSettlement('ISSUER0001', 'card_42', pushSettlement.parse({ ...answer, staleChangeCounter: true }))).toBe(
      `D1 push ${REQUEST_ID} to card card_42 of issuer ISSUER0001 settled as succeeded: change counter left at 3, as another push computed with the same counter succeeded first (this push's block was stale), card free`,
    );
    expect(formatPushSettlement('ISSUER0001', 'card_42', pushSettlement.parse(answer))).toBe(`D1 push ${REQUEST_ID} to card card_42 of issuer ISSUER0001 settled as succeeded: change counter 3, card free`);
  });
});

describe('npm run ops: errors', () => {
  it('tells what to change when a service refuses the token or knows no such id', () => {
    expect(describeRefusal(localAudit, 401, { code: 'TOKEN_INVALID', title: 'Unauthorized' }, 'x')).toBe(
      'audit refused the token (401, TOKEN_INVALID: Unauthorized): set PINFLOW_TOKEN to a current token from the issuer audit trusts',
    );
    expect(describeRefusal(localAudit, 403, undefined, 'x')).toBe('audit refused the token (403): it needs the scopes pin:read and pinflow:operator');
    expect(describeRefusal(localAudit, 404, { code: 'CARD_NOT_FOUND' }, 'audit has no history of card c1')).toBe(
      'audit has no history of card c1 (404): no such id, or none this token may see',
    );
    expect(describeRefusal(localAudit, 503, { code: 'TEMPORARILY_UNAVAILABLE', detail: 'database away' }, 'x')).toBe('audit answered 503 (TEMPORARILY_UNAVAILABLE: database away)');
  });

  it('names the address it could not reach, where it came from, and how to fix it', () => {
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8081') });

    expect(describeUnreachable(localAudit, refused)).toBe(
      "cannot reach audit at http://127.0.0.1:8081 (AUDIT_URL, default npm start's audit): connect ECONNREFUSED 127.0.0.1:8081; start it with `npm start`, or set AUDIT_URL",
    );
  });
});
