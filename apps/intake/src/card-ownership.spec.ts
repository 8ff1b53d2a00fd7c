import { ProblemException } from '@pinflow/http';
import { CardOwnersFileError, parseCardOwners } from './card-owners';
import { requiredCardOwner } from './card-ownership';
import { D1_DOOR_ENV, intakeConfigProblems, intakeConfigWith } from './config.spec-support';

describe('card ownership of writes', () => {
  const d1Door = D1_DOOR_ENV;
  const problemsOf = intakeConfigProblems;
  const modeOf = (env: Record<string, string>) => intakeConfigWith(env).INTAKE_CARD_OWNERSHIP;

  describe('configuration', () => {
    it('is open for local runs and tests, and enforced in production unless configured otherwise', () => {
      expect(modeOf({})).toBe('open');
      expect(modeOf({ NODE_ENV: 'production' })).toBe('enforced');
      expect(modeOf({ INTAKE_CARD_OWNERSHIP: 'enforced' })).toBe('enforced');
    });

    it('refuses to start open in production', () => {
      expect(problemsOf({ NODE_ENV: 'production', INTAKE_CARD_OWNERSHIP: 'open' })).toEqual([expect.stringMatching(/^INTAKE_CARD_OWNERSHIP: open is refused in production/)]);
    });

    it('refuses to start enforced with a Kafka requester or a D1 issuer that names no tenant, whose every write would be refused', () => {
      const requesters = JSON.stringify({ 'acme-core': { publicKeyFile: 'acme.pem' }, 'globex-core': { publicKeyFile: 'globex.pem', tenant: 'globex' } });
      const issuers = JSON.stringify({ PISMOISS01: { vendor: 'pismo' }, PISMOISS02: { vendor: 'pismo', tenant: 'globex' } });

      expect(problemsOf({ INTAKE_CARD_OWNERSHIP: 'enforced', INTAKE_KAFKA_REQUESTERS: requesters, D1_INBOUND_ISSUERS: issuers, ...d1Door })).toEqual([
        expect.stringMatching(/^INTAKE_KAFKA_REQUESTERS.acme-core.tenant: required while card ownership is enforced/),
        expect.stringMatching(/^D1_INBOUND_ISSUERS.PISMOISS01.tenant: required while card ownership is enforced/),
      ]);
      expect(problemsOf({ INTAKE_KAFKA_REQUESTERS: requesters, D1_INBOUND_ISSUERS: issuers, ...d1Door })).toEqual([]);
    });
  });

  describe('the tenant a write must own its card as', () => {
    it("is the caller's tenant when enforced, for operators too", () => {
      expect(requiredCardOwner('enforced', { subject: 'acme-backend', tenant: 'acme', scopes: new Set(['pin:write']) })).toBe('acme');
      expect(requiredCardOwner('enforced', { subject: 'ops', tenant: 'acme', scopes: new Set(['pin:write', 'pinflow:operator']) })).toBe('acme');
    });

    it('refuses a caller without a tenant with 403 TENANT_REQUIRED when enforced', () => {
      const refusal = (() => {
        try {
          return requiredCardOwner('enforced', { subject: 'no-tenant', scopes: new Set(['pin:write', 'pinflow:operator']) });
        } catch (error) {
          return error;
        }
      })();

      expect(refusal).toBeInstanceOf(ProblemException);
      expect((refusal as ProblemException).problem).toMatchObject({ status: 403, code: 'TENANT_REQUIRED' });
    });

    it('is none when open', () => {
      expect(requiredCardOwner('open', { subject: 'no-tenant', scopes: new Set() })).toBeNull();
    });
  });

  describe('import files', () => {
    it('reads a line tenant,vendor,cardId per card, skipping blank and # lines', () => {
      expect(parseCardOwners('# acme portfolio\nacme,pismo,100200\n\n acme , vault , 42 \r\nglobex,thales-d1,card_7\n')).toEqual([
        { tenant: 'acme', vendor: 'pismo', cardId: '100200' },
        { tenant: 'acme', vendor: 'vault', cardId: '42' },
        { tenant: 'globex', vendor: 'thales-d1', cardId: 'card_7' },
      ]);
    });

    it('refuses the whole file, naming every wrong line, for an unknown vendor, a bad card id or a missing or extra field', () => {
      expect(() => parseCardOwners('acme,pismo,1\nacme,visa,2\nacme,pismo,../3\nacme,pismo\nacme,pismo,4,extra\n')).toThrow(
        new CardOwnersFileError(['line 2', 'line 3', 'line 4', 'line 5'].map((line) => `${line}: expected tenant,vendor,cardId with a known vendor and a card id of letters, digits, _ or -`).join('\n')),
      );
    });
  });
});
