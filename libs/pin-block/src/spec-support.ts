import { PinBlockError, type PinBlockErrorCode } from './errors';

/** The PinBlockError `action` throws; anything else it throws, or nothing thrown, fails the test. */
export function thrownPinBlockError(action: () => unknown): PinBlockError {
  try {
    action();
  } catch (error) {
    if (error instanceof PinBlockError) return error;
    throw error;
  }
  throw new Error('expected a PinBlockError, but nothing was thrown');
}

/** The code of the PinBlockError `action` throws. */
export function errorCode(action: () => unknown): PinBlockErrorCode {
  return thrownPinBlockError(action).code;
}
