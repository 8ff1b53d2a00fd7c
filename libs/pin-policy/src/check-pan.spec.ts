import { checkPan, hasValidCheckDigit, PanRules } from './check-pan';

/** What ISO/IEC 7812 allows for payment cards. */
const PAYMENT_CARD_PANS: PanRules = { minLength: 13, maxLength: 19 };

describe('checkPan with the lengths of payment card PANs', () => {
  it.each([
    ['a Visa test card', '4761739001010119'],
    ['a Mastercard test card', '5413330089020011'],
    ['a 13-digit PAN', '4222222222222'],
    ['a 19-digit PAN', '6304000000000000000'],
  ])('accepts %s', (_what, pan) => {
    expect(checkPan(pan, PAYMENT_CARD_PANS)).toEqual({ ok: true });
  });

  it.each([
    ['a wrong check digit', '4761739001010118'],
    ['two digits swapped', '4761739001010191'],
    ['12 digits, though Luhn-valid', '123456789015'],
    ['20 digits, though Luhn-valid', '12345678901234567894'],
    ['a letter', '476173900101011A'],
    ['spaces', '4761 7390 0101 0119'],
    ['nothing', ''],
  ])('refuses %s, without quoting it', (_what, pan) => {
    const result = checkPan(pan, PAYMENT_CARD_PANS);

    expect(result).toEqual({ ok: false, message: 'PAN must be 13 to 19 digits with a valid Luhn check digit' });
  });
});

describe('hasValidCheckDigit', () => {
  it('holds for exactly one of the ten possible last digits', () => {
    const valid = [...'0123456789'].filter((last) => hasValidCheckDigit(`476173900101011${last}`));
    expect(valid).toEqual(['9']);
  });
});
