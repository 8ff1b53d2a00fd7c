import { Controller, Get, Header } from '@nestjs/common';
import { PinKeyRing } from '@pinflow/pin-crypto';

/** pinflow's public PIN keys, for callers to encrypt PINs to (JWE RSA-OAEP-256, by `kid`). */
@Controller('v1/pin-keys')
export class PinKeysController {
  constructor(private readonly keyRing: PinKeyRing) {}

  @Get()
  @Header('Cache-Control', 'public, max-age=300')
  keys() {
    return this.keyRing.publicJwks();
  }
}
