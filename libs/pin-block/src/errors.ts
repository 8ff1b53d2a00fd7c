import type { PinBlockFormat } from './format';

export type PinBlockErrorCode =
  | 'INVALID_PIN'
  | 'INVALID_PAN'
  | 'INVALID_BLOCK'
  | 'INVALID_FILL'
  | 'INVALID_KEY'
  | 'WRONG_FORMAT'
  | 'PAN_MISMATCH'
  | 'DECIPHER_FAILED';

// Built from the code and the format number only: a message that quoted the PIN, the PAN, the block or a key
// would carry a secret into whatever logs the exception.
function messageFor(code: PinBlockErrorCode, format: PinBlockFormat | undefined): string {
  switch (code) {
    case 'INVALID_PIN':
      return 'A PIN must be a string of 4 to 12 decimal digits';
    case 'INVALID_PAN':
      return 'A PAN must be a string of 12 to 19 decimal digits';
    case 'INVALID_BLOCK':
      return format === undefined
        ? 'The PIN block is not a hexadecimal string of the expected length'
        : `The PIN block is not a well-formed ISO 9564 format ${format} block`;
    case 'INVALID_FILL':
      return 'The format 1 fill must be exactly 14 minus the PIN length hexadecimal digits';
    case 'INVALID_KEY':
      return format === 4
        ? 'The PIN key must be an AES key of 16, 24 or 32 bytes'
        : 'The PIN key must be a triple-DES key of 16 or 24 bytes with distinct components';
    case 'WRONG_FORMAT':
      return format === undefined
        ? 'The PIN block is not in a supported clear ISO 9564 format (0, 1 or 3)'
        : `The PIN block is not in ISO 9564 format ${format}`;
    case 'PAN_MISMATCH':
      return `The format ${format ?? 0} PIN block does not decode under this PAN: wrong PAN or corrupted block`;
    case 'DECIPHER_FAILED':
      return 'The format 4 PIN block does not decipher to a valid PIN field: wrong key, wrong PAN or corrupted block';
  }
}

/**
 * Why a PIN block could not be built or read. Carries only a code and the format number, never a cause,
 * since causes (such as crypto errors) can quote their input.
 */
export class PinBlockError extends Error {
  override readonly name = 'PinBlockError';

  constructor(
    readonly code: PinBlockErrorCode,
    readonly format?: PinBlockFormat,
  ) {
    super(messageFor(code, format));
  }
}
