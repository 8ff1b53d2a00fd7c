import { Body, Controller, Get, Headers, HttpCode, Logger, Param, Post, Put, Res, UseFilters } from '@nestjs/common';
import { routeOf } from '@pinflow/contracts';
import { encryptSecret, PrivateKeyRingFile } from '@pinflow/pin-crypto';
import type { Response } from 'express';
import { HttpDoor } from '../acceptance';
import type { Submission } from '../requests.service';
import { Submissions } from '../submissions';
import type { D1TokenResponse } from './access-tokens';
import type { D1IssuerRoute } from './config';
import { D1Door } from './d1-door';
import { D1Error, D1ErrorFilter } from './d1-errors';
import { PinBlockType, setPinBody } from './pin-block';

/** The one processor D1's pushes reach today (see D1_ROUTABLE_VENDORS): Pismo's PIN change, as its contract gives it. */
const PISMO_CHANGE_PIN = routeOf('pismo', 'change_pin')!;

export const D1_TOKEN_PATH = 'authz/d1/v1/oauth2/token';

/** D1's access-token flow at the CMS: OAuth2 client credentials, HTTP Basic, a form body. */
@Controller(D1_TOKEN_PATH)
@UseFilters(D1ErrorFilter)
export class D1TokenController {
  constructor(private readonly door: D1Door) {}

  @Post()
  @HttpCode(200)
  token(@Headers('authorization') authorization: string | undefined, @Body() body: { grant_type?: unknown } | undefined): Promise<D1TokenResponse> {
    return this.door.issueToken(authorization, body?.grant_type);
  }
}

/**
 * Thales D1's PIN Management API, with pinflow as the card management system: D1 pushes a card's PIN,
 * and pinflow changes it at the processor holding the issuer's cards, through the same acceptance,
 * outbox, events and audit as any other PIN change.
 */
@Controller('cms/api/v1/issuers/:issuerId/cards/:cardId/pin')
@UseFilters(D1ErrorFilter)
export class D1PinManagementController {
  private readonly logger = new Logger('ThalesD1Inbound');

  constructor(
    private readonly door: D1Door,
    private readonly requests: HttpDoor,
    private readonly submissions: Submissions,
    private readonly callerKeys: PrivateKeyRingFile,
  ) {}

  /**
   * 204 once the change is durably accepted (its outcome follows on pinflow.events.v1 and in audit).
   * A retry with the same x-correlation-id for the same card is answered again and applied once.
   */
  @Put()
  @HttpCode(204)
  async setPin(
    @Param('issuerId') issuerId: string,
    @Param('cardId') cardId: string,
    @Headers('authorization') authorization: string | undefined,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const { client, route } = await this.door.admit(authorization, issuerId, cardId);
    const correlationId = this.door.correlationId(correlationHeader);
    const parsed = setPinBody.safeParse(body);
    if (!parsed.success) throw new D1Error(400, 'INVALID_BODY', 'The body must be {type: "ISO0" | "3DES_SECCOS", encryptedPinBlock: <JWE, at most 8192 characters>}');
    const pin = await this.door.pinOf(parsed.data);
    const { requestId } = await this.requests.accept(
      {
        principal: { subject: `thales-d1:${client}`, clientId: client, scopes: new Set() },
        // D1's correlation id is not promised unique: scoped to the card, a reuse elsewhere is harmless.
        idempotencyKey: correlationId && `d1/${issuerId}/${cardId}/${correlationId}`,
        response,
      },
      this.pinChange(issuerId, cardId, parsed.data.type, pin, route),
    );
    // D1 troubleshoots by its correlation id: the log ties it to intake's request.
    // `blockFormat` is D1's `type`, one of PIN_BLOCK_TYPES (the schema refused anything else); never the block.
    this.logger.log({ correlationId, issuerId, cardId, blockFormat: parsed.data.type, requestId }, 'D1 PIN push accepted');
  }

  /** pinflow never stores a PIN, so it has none to give back: D1's "not available". */
  @Get()
  async pin(@Param('issuerId') issuerId: string, @Param('cardId') cardId: string, @Headers('authorization') authorization: string | undefined): Promise<never> {
    await this.door.admit(authorization, issuerId, cardId);
    throw new D1Error(404, 'PIN_NOT_AVAILABLE', 'This card management system never stores PINs: none can be read back');
  }

  /** pinflow keeps no Seccos PIN change counter: the processor holding the card does, if any. */
  @Get('changeCounter')
  async changeCounter(@Param('issuerId') issuerId: string, @Param('cardId') cardId: string, @Headers('authorization') authorization: string | undefined): Promise<never> {
    await this.door.admit(authorization, issuerId, cardId);
    throw new D1Error(404, 'CHANGE_COUNTER_NOT_AVAILABLE', 'This card management system keeps no PIN change counter');
  }

  /**
   * The processor's PIN change, built by the same Submissions as every other door's: the PIN is sealed
   * to pinflow's key and checked against the processor's rules and the weak-PIN policy there. The
   * request's identity is D1's push, not the JWE (D1 may re-encrypt a retry).
   */
  private pinChange(issuerId: string, cardId: string, type: PinBlockType, pin: string, route: D1IssuerRoute): Submission {
    return {
      fingerprintSource: { door: 'thales-d1', issuerId, cardId, type, vendor: route.vendor },
      draft: async (commandId) => this.submissions.of('pismo', PISMO_CHANGE_PIN, { cardId }, { encryptedPin: await encryptSecret('pin', pin, this.callerKeys), syncOfflinePin: route.syncOfflinePin }).draft(commandId),
    };
  }
}
