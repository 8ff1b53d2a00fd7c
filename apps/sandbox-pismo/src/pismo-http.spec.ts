import { CARD_ID_IN_PATH, PISMO_DIALECT } from './pismo-http';
import { CardRejected } from './card';

describe("Pismo's side of HTTP", () => {
  it('finds the card of both Pismo card paths and none in the token path', () => {
    expect(CARD_ID_IN_PATH.exec('/pcicards/v2/pcicards/card/123')?.[1]).toBe('123');
    expect(CARD_ID_IN_PATH.exec('/wallet/v2/cards/456/password-tries/increase')?.[1]).toBe('456');
    expect(CARD_ID_IN_PATH.exec('/pcicards/v1/pcicards/789/scripts/pin-update')?.[1]).toBe('789');
    expect(CARD_ID_IN_PATH.exec('/passport/v1/oauth2/token')).toBeNull();
  });

  it('words errors as {message} only', () => {
    expect(PISMO_DIALECT.errorBody({ status: 400, code: 'INVALID_BODY', message: 'pin must be a string of 4 to 6 digits', field: 'pin' })).toEqual({
      message: 'pin must be a string of 4 to 6 digits',
    });
  });

  it("answers a card's refusal with Pismo's status: 403 for a terminal status, 406 for tries it cannot reset", () => {
    expect(PISMO_DIALECT.errorFor?.(new CardRejected('TERMINAL_STATUS', 'no'))).toMatchObject({ status: 403, message: 'no' });
    expect(PISMO_DIALECT.errorFor?.(new CardRejected('TRIES_NOT_RESETTABLE', 'no'))).toMatchObject({ status: 406 });
    expect(PISMO_DIALECT.errorFor?.(new Error('boom'))).toBeUndefined();
  });
});
