import { pismo, requestSchemaOf, routeOf, thalesD1, THALES_D1_PAN_RULES, THALES_D1_PIN_RULES, VENDOR_CONTRACTS } from '@pinflow/contracts';
import type { SecretSealer } from './secrets';
import { Submissions } from './submissions';

/** Seals by naming what it was given, so a test sees which secret went where, checked by which rules. */
const sealer = {
  seal: async (kind: string, input: { encrypted?: string; clear?: string }, rules?: unknown) => `sealed ${kind} ${input.encrypted ?? input.clear}${rules ? ' checked' : ''}`,
  sealPan: async (input: { encrypted?: string; clear?: string }, rules: unknown) => `sealed pan ${input.encrypted ?? input.clear}${rules === THALES_D1_PAN_RULES ? ' checked' : ''}`,
} as unknown as SecretSealer;

describe('Submissions, from a route of a vendor contract', () => {
  const submissions = new Submissions(sealer);
  const changePin = thalesD1.routes[0];

  it("makes the command of a route's parameters and body, each secret re-sealed under its field", async () => {
    const submission = submissions.of('thales-d1', changePin, { issuerId: 'ISSUER0001', cardId: 'card-1' }, { pinBlockFormat: 'ISO0', encryptedPin: 'jwe-pin', pan: '4761739001010119' });

    expect(await submission.draft('command-1')).toEqual({
      vendor: 'thales-d1',
      operation: 'change_pin',
      issuerId: 'ISSUER0001',
      cardId: 'card-1',
      pinBlockFormat: 'ISO0',
      encryptedPin: 'sealed pin jwe-pin checked',
      encryptedPan: 'sealed pan 4761739001010119 checked',
    });
    expect(changePin.secrets?.encryptedPin.pinRules).toBe(THALES_D1_PIN_RULES);
  });

  it('fingerprints a request by its identity and its sealed secrets as sent, never a clear one, in a stable order', () => {
    const submission = submissions.of('thales-d1', changePin, { issuerId: 'ISSUER0001', cardId: 'card-1' }, { pinBlockFormat: 'ISO0', encryptedPin: 'jwe-pin', pan: '4761739001010119' });

    // The stored fingerprints of earlier requests were made in this order: a retry must hash the same.
    expect(JSON.stringify(submission.fingerprintSource)).toBe(
      JSON.stringify({ vendor: 'thales-d1', operation: 'change_pin', issuerId: 'ISSUER0001', cardId: 'card-1', pinBlockFormat: 'ISO0', encryptedPin: 'jwe-pin', encryptedPan: null }),
    );
  });

  it('seals an optional secret when sent, and leaves it out of command and fingerprint when not, so older requests hash as they did', async () => {
    const updateOfflinePin = routeOf('pismo', 'update_offline_pin')!;
    const body = { encryptedPin: 'jwe-pin', scriptId: 'script-1', accountId: '8675309' };
    const withoutPan = submissions.of('pismo', updateOfflinePin, { cardId: 'card-1' }, body);
    const withPan = submissions.of('pismo', updateOfflinePin, { cardId: 'card-1' }, { ...body, encryptedPan: 'jwe-pan' });

    expect(await withoutPan.draft('command-1')).toEqual({ vendor: 'pismo', operation: 'update_offline_pin', cardId: 'card-1', scriptId: 'script-1', accountId: '8675309', encryptedPin: 'sealed pin jwe-pin checked' });
    expect(withoutPan.fingerprintSource).toEqual({ vendor: 'pismo', operation: 'update_offline_pin', cardId: 'card-1', scriptId: 'script-1', accountId: '8675309', encryptedPin: 'jwe-pin' });
    expect(await withPan.draft('command-1')).toMatchObject({ encryptedPin: 'sealed pin jwe-pin checked', encryptedPan: 'sealed pan jwe-pan' });
    expect(withPan.fingerprintSource).toMatchObject({ encryptedPan: 'jwe-pan' });
  });

  it('takes a request from the Kafka door by its vendor and operation, its path parameters from the message', async () => {
    const submission = submissions.fromKafka({ vendor: 'pismo', operation: 'increase_password_tries', cardId: 'card-7', clientRequestId: 'r-1', body: { blockCardExceedsCounter: true } });

    expect(await submission.draft('command-1')).toEqual({ vendor: 'pismo', operation: 'increase_password_tries', cardId: 'card-7', blockCardExceedsCounter: true });
    expect(routeOf('pismo', 'increase_password_tries')).toBe(pismo.routes[1]);
  });

  it.each(VENDOR_CONTRACTS.flatMap((vendor) => vendor.routes.map((route) => [vendor.name, route.operation])))('takes %s %s on the Kafka door as on the HTTP door', (vendor, operation) => {
    expect(requestSchemaOf(vendor, operation)).toBeDefined();
  });
});
