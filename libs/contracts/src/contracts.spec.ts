import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { ASYNCAPI_FILE, renderAsyncApi } from './asyncapi-document';
import { buildEvent, EVENT_TYPES, parseEvent, pismoCommand, requesterOfTopic, requestTopic, TERMINAL_EVENT_TYPES } from './index';

const JWE = 'eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a2V5.aXY.Y2lwaGVy.dGFn';

describe('pinflow contracts', () => {
  const envelope = {
    schemaVersion: 1,
    commandId: randomUUID(),
    requestId: randomUUID(),
    cardId: 'card-1',
    caller: { subject: 'mobile-backend' },
    issuedAt: new Date().toISOString(),
    vendor: 'pismo',
  };

  it('accepts a Pismo PIN change whose PIN is a compact JWE', () => {
    expect(pismoCommand.parse({ ...envelope, operation: 'change_pin', encryptedPin: JWE, syncOfflinePin: true }).operation).toBe('change_pin');
  });

  it('refuses a command that carries a clear PIN instead of a JWE', () => {
    expect(pismoCommand.safeParse({ ...envelope, operation: 'change_pin', encryptedPin: '1234', syncOfflinePin: false }).success).toBe(false);
    expect(pismoCommand.safeParse({ ...envelope, operation: 'change_pin', pin: '1234', syncOfflinePin: false }).success).toBe(false);
  });

  it('builds CloudEvents 1.0 whose subject is the card id', () => {
    const event = buildEvent(EVENT_TYPES.passwordChanged, { source: '/pinflow/test', cardId: 'card-1', data: { vendor: 'pismo', requestId: envelope.requestId } });
    expect(event).toMatchObject({ specversion: '1.0', type: 'pinflow.card.password.changed', subject: 'card-1', datacontenttype: 'application/json' });
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('requires a failure to name its request and a reason code', () => {
    expect(() => buildEvent(EVENT_TYPES.failed, { source: '/x', cardId: 'c', data: { vendor: 'pismo' } as never })).toThrow();
    expect(() =>
      buildEvent(EVENT_TYPES.failed, { source: '/x', cardId: 'c', data: { vendor: 'pismo', requestId: envelope.requestId, commandId: envelope.commandId, operation: 'change_pin', reason: 'NOT_A_REASON' as never } }),
    ).toThrow();
  });

  it('treats each operation’s outcome (password changed, script appended, tries increased or reset, code sent or checked, confirmation required) and failed as final, and nothing else', () => {
    expect([...TERMINAL_EVENT_TYPES].sort()).toEqual(
      [
        EVENT_TYPES.failed,
        EVENT_TYPES.passwordChanged,
        EVENT_TYPES.issuerScriptAppended,
        EVENT_TYPES.passwordTriesIncreased,
        EVENT_TYPES.passwordTriesReset,
        EVENT_TYPES.verificationCodeSent,
        EVENT_TYPES.verificationCodeChecked,
        EVENT_TYPES.confirmationRequired,
      ].sort(),
    );
  });

  it('ships an AsyncAPI document that matches the schemas (regenerate with npm run contracts:doc)', () => {
    expect(readFileSync(ASYNCAPI_FILE, 'utf8')).toBe(renderAsyncApi());
  });
});

describe('request topics, one per requester', () => {
  it("name the requester they belong to, which is read back from the name", () => {
    expect(requestTopic('core-banking')).toBe('pinflow.requests.core-banking.v1');
    expect(requesterOfTopic(requestTopic('core-banking'))).toBe('core-banking');
  });

  it('belong to no requester when the name is not that of a request topic or holds no requester id', () => {
    expect(requesterOfTopic('pinflow.requests.v1')).toBeUndefined();
    expect(requesterOfTopic('pinflow.events.v1')).toBeUndefined();
    expect(requesterOfTopic('pinflow.requests.core.banking.v1')).toBeUndefined();
  });
});
