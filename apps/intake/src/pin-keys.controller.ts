import { Controller, Get, Header } from '@nestjs/common';
import { PrivateKeyRingFile } from '@pinflow/pin-crypto';

/** pinflow's caller-facing public PIN keys, for callers to encrypt PINs to (JWE RSA-OAEP-256, by `kid`). */
@Controller('v1/pin-keys')
export class PinKeysController {
  constructor(private readonly keyRing: PrivateKeyRingFile) {}

  @Get()
  @Header('Cache-Control', 'public, max-age=300')
  keys() {
    return this.keyRing.publicJwks();
  }
}
