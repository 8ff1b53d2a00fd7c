import { D1_DOOR_ENV, intakeConfigProblems, intakeConfigWith } from '../config.spec-support';
import { d1InboundSettings } from './config';

describe('intake configuration of the Thales D1 door', () => {
  const door = D1_DOOR_ENV;
  const problemsOf = intakeConfigProblems;

  it('serves no issuer by default, and then needs nothing else', () => {
    expect(d1InboundSettings(intakeConfigWith({}))).toBeUndefined();
  });

  it('routes each configured issuer to its processor, syncing the chip’s offline PIN unless told not to', () => {
    const config = intakeConfigWith({ ...door, D1_INBOUND_ISSUERS: '{"PISMOISS01":{"vendor":"pismo"},"PISMOISS02":{"vendor":"pismo","syncOfflinePin":false}}' });

    expect(d1InboundSettings(config)).toEqual({
      issuers: { PISMOISS01: { vendor: 'pismo', syncOfflinePin: true }, PISMOISS02: { vendor: 'pismo', syncOfflinePin: false } },
      clientId: 'thales-d1',
      clientSecret: 'x'.repeat(32),
      encryptionKeyFile: 'd1-key.json',
      tokenTtlSeconds: 300,
    });
  });

  it('refuses to start with an issuer but without D1’s credentials or pinflow’s key', () => {
    expect(problemsOf({ D1_INBOUND_ISSUERS: '{"PISMOISS01":{"vendor":"pismo"}}' })).toEqual([
      'D1_INBOUND_CLIENT_ID: required when D1_INBOUND_ISSUERS names an issuer',
      'D1_INBOUND_CLIENT_SECRET: required when D1_INBOUND_ISSUERS names an issuer',
      'D1_INBOUND_ENCRYPTION_KEY_FILE: required when D1_INBOUND_ISSUERS names an issuer',
    ]);
  });

  it.each([
    ['an issuer id of another length', '{"PISMO":{"vendor":"pismo"}}'],
    ['a processor a D1 push cannot be routed to', '{"PISMOISS01":{"vendor":"solaris"}}'],
    ['an unknown setting', '{"PISMOISS01":{"vendor":"pismo","pan":"4111111111111111"}}'],
    ['text that is not JSON', 'PISMOISS01=pismo'],
  ])('refuses to start with %s', (_case, issuers) => {
    expect(problemsOf({ ...door, D1_INBOUND_ISSUERS: issuers })).toEqual([expect.stringMatching(/^D1_INBOUND_ISSUERS/)]);
  });

  it('refuses a client secret too short to key the access tokens', () => {
    expect(problemsOf({ ...door, D1_INBOUND_CLIENT_SECRET: 'short' })).toEqual([expect.stringMatching(/^D1_INBOUND_CLIENT_SECRET: must be at least 32 characters/)]);
  });
});
