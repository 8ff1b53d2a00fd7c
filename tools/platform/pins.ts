import { checkPin, PinRules } from '@pinflow/pin-policy';
import { randomInt } from 'node:crypto';

/** A random PIN the vendor's rules accept; made up in memory and never printed. */
export function acceptablePin(rules: PinRules, digits = rules.minLength): string {
  for (;;) {
    const pin = String(randomInt(0, 10 ** digits)).padStart(digits, '0');
    if (checkPin(pin, rules).ok) return pin;
  }
}

/** A Luhn-valid test PAN (issuer range 999999, never a real card). */
export function testPan(): string {
  const body = `999999${String(randomInt(0, 1e9)).padStart(9, '0')}`;
  let sum = 0;
  for (let index = 0; index < body.length; index += 1) {
    let digit = Number(body[body.length - 1 - index]);
    if (index % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}
