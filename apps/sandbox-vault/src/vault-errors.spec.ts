import { SYSTEM_ID, vaultErrorBody } from './vault-errors';

describe("Vault's error body", () => {
  it('carries the error, its id, the message, the field at fault and the system id, nothing else', () => {
    expect(vaultErrorBody({ status: 400, code: 'CODE_EXPIRED', message: 'The code has expired: send a new one', field: 'code' })).toEqual({
      error: 'CODE_EXPIRED',
      errorId: 31,
      message: 'The code has expired: send a new one',
      field: 'code',
      systemId: SYSTEM_ID,
    });
  });

  it("words the kit's errors as Vault does: a failure is COMMON with Vault's apology", () => {
    expect(vaultErrorBody({ status: 500, code: 'INTERNAL', message: 'Internal server error' })).toEqual({
      error: 'COMMON',
      errorId: 0,
      message: "Sorry for inconvenience. We're fixing the issue. If you have urgent questions, contact support",
      systemId: 'vault-sandbox',
    });
    expect(vaultErrorBody({ status: 400, code: 'INVALID_BODY', message: 'code must be a string', field: 'code' })).toMatchObject({ error: 'VALIDATION_ERROR', field: 'code' });
    expect(vaultErrorBody({ status: 401, code: 'UNAUTHORIZED', message: 'Unauthorized' })).toMatchObject({ error: 'UNAUTHORIZED' });
    expect(vaultErrorBody({ status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable' })).toMatchObject({ error: 'SERVICE_UNAVAILABLE' });
  });

  it("keeps OAuth2's codes on the token endpoint, so that OAuth2 clients understand them", () => {
    expect(vaultErrorBody({ status: 401, code: 'invalid_client', message: 'Client authentication failed' })).toMatchObject({ error: 'invalid_client', errorId: 41 });
  });
});
