import { Injectable } from '@nestjs/common';
import type { SolarisChangePinCommand } from '@pinflow/contracts';
import type { VendorAdapter, VendorCall } from '@pinflow/worker-kit';
import { settle } from './outcomes';
import { pinUpdateRequestOf, SolarisClient } from './solaris/solaris-client';

/**
 * Solaris' part of running a command. There is nothing to decrypt: the cardholder's device encrypted
 * the PIN to Solaris' key and signed the JWE, and the worker relays both as they came. They live in
 * the call's closure only, never in a log line, an error or `details`.
 */
@Injectable()
export class SolarisAdapter implements VendorAdapter<SolarisChangePinCommand> {
  readonly settle = settle;

  constructor(private readonly solaris: SolarisClient) {}

  async prepare(command: SolarisChangePinCommand): Promise<VendorCall> {
    const body = pinUpdateRequestOf(command);
    return () => this.solaris.requestPinUpdate(command.cardId, body);
  }
}
