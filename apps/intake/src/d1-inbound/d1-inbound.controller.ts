import { Body, Controller, Get, Headers, HttpCode, Logger, Param, Post, Put, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@pinflow/auth';
import { PISMO_PIN_RULES, routeOf } from '@pinflow/contracts';
import type { PinRules } from '@pinflow/pin-policy';
import { encryptSecret, PrivateKeyRingFile } from '@pinflow/pin-crypto';
import type { FastifyReply } from 'fastify';
import { HttpDoor } from '../acceptance';
import type { CommandDraft, Submission } from '../requests.service';
import { SecretSealer } from '../secrets';
import { Submissions } from '../submissions';
import type { D1TokenResponse } from './access-tokens';
import { D1ChangeCounters } from './change-counters';
import type { D1IssuerRoute, D1RoutableVendor } from './config';
import { D1Door } from './d1-door';
import { D1Error, D1ErrorFilter } from './d1-errors';
import { D1AuthGuard, D1Caller, D1RateLimitGuard } from './d1-guards';
import { D1Push, setPinBody } from './pin-block';

/** The one processor D1's pushes reach today (see D1_ROUTABLE_VENDORS): Pismo's PIN change, as its contract gives it. */
const PISMO_CHANGE_PIN = routeOf('pismo', 'change_pin')!;

/**
 * Whether each processor D1's pushes reach takes an ISO0 block, and the PIN lengths it takes. The block
 * is bound to the card's PAN, which only the processor holds: one that reads format 0 PIN blocks with
 * it gets D1's block as it came, moved from D1's key to the processor's as a card management system's
 * HSM translates a PIN block. A processor that takes no PIN blocks is listed without (undefined), and
 * its issuers' ISO0 pushes are refused.
 */
const ISO0_PIN_BLOCKS: Record<D1RoutableVendor, { pinRules: PinRules } | undefined> = {
  // Pismo's PIN block endpoint (update_pin_block), under the zone PIN key worker-pismo holds.
  pismo: { pinRules: PISMO_PIN_RULES },
};

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
@UseGuards(D1AuthGuard, D1RateLimitGuard)
export class D1PinManagementController {
  private readonly logger = new Logger('ThalesD1Inbound');

  constructor(
    private readonly door: D1Door,
    private readonly requests: HttpDoor,
    private readonly counters: D1ChangeCounters,
    private readonly submissions: Submissions,
    private readonly callerKeys: PrivateKeyRingFile,
    private readonly secrets: SecretSealer,
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
    @D1Caller() principal: AuthenticatedPrincipal,
    @Headers('x-correlation-id') correlationHeader: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<void> {
    const route = this.door.route(issuerId, cardId);
    const correlationId = this.door.correlationId(correlationHeader);
    const parsed = setPinBody.safeParse(body);
    if (!parsed.success) throw new D1Error(400, 'INVALID_BODY', 'The body must be {type: "ISO0" | "3DES_SECCOS", encryptedPinBlock: <JWE, at most 8192 characters>}');
    if (parsed.data.type === 'ISO0' && !ISO0_PIN_BLOCKS[route.vendor]) {
      throw new D1Error(400, 'PIN_BLOCK_TYPE_NOT_SUPPORTED', "ISO0 blocks are bound to the card's PAN, which neither this call nor this card management system holds, and the processor holding this issuer's cards takes no PIN blocks to read it with: push a 3DES_SECCOS block");
    }
    const push = await this.door.read(parsed.data);
    // D1's correlation id is not promised unique: scoped to the card, a reuse elsewhere is harmless.
    const idempotencyKey = correlationId && `d1/${issuerId}/${cardId}/${correlationId}`;
    // Set once this push holds the card: a retry of a recorded push is answered before any claim.
    let claimedCommandId: string | undefined;
    // Only a Seccos block is computed with the change counter, so only its push holds the card.
    const claim = async (commandId: string) => {
      if (push.type !== '3DES_SECCOS') return;
      await this.counters.claim(issuerId, cardId, push.changeCounter, commandId);
      claimedCommandId = commandId;
    };
    let requestId: string;
    try {
      // The push acts for the tenant holding the issuer's cards: the card must be one of them (when ownership is enforced).
      const onBehalfOfIssuer = { ...principal, ...(route.tenant === undefined ? {} : { tenant: route.tenant }) };
      ({ requestId } = await this.requests.accept({ principal: onBehalfOfIssuer, idempotencyKey, response }, this.pinChange(issuerId, cardId, push, route, claim)));
    } catch (error) {
      // A refused push changes no PIN, so it must not hold the card D1 computed the block for.
      if (claimedCommandId) await this.release(claimedCommandId, { correlationId, issuerId, cardId });
      throw error;
    }
    // Another push with this correlation id was recorded first: this one's claim names a command that will never run.
    if (claimedCommandId && response.getHeader('Idempotent-Replayed') === 'true') await this.release(claimedCommandId, { correlationId, issuerId, cardId });
    // D1 troubleshoots by its correlation id: the log ties it to intake's request.
    // `blockFormat` is D1's `type`, one of PIN_BLOCK_TYPES (the schema refused anything else); never the block.
    this.logger.log({ correlationId, issuerId, cardId, blockFormat: push.type, changeCounter: push.type === '3DES_SECCOS' ? push.changeCounter : undefined, requestId }, 'D1 PIN push accepted');
  }

  /** pinflow never stores a PIN, so it has none to give back: D1's "not available". */
  @Get()
  pin(@Param('issuerId') issuerId: string, @Param('cardId') cardId: string): never {
    this.door.route(issuerId, cardId);
    throw new D1Error(404, 'PIN_NOT_AVAILABLE', 'This card management system never stores PINs: none can be read back');
  }

  /** The card's Seccos PIN change counter, which the next 3DES_SECCOS push must carry (0 for a card never pushed to). */
  @Get('changeCounter')
  async changeCounter(@Param('issuerId') issuerId: string, @Param('cardId') cardId: string): Promise<{ changeCounter: number }> {
    this.door.route(issuerId, cardId);
    return { changeCounter: await this.counters.current(issuerId, cardId) };
  }

  /**
   * The processor's PIN change. The request's identity is D1's push, not the JWE (D1 may re-encrypt a
   * retry). A Seccos block's PIN goes through the same Submissions as every other door's: sealed to
   * pinflow's key and checked against the processor's rules and the weak-PIN policy there. An ISO0
   * block shows only its PIN's length and first two digits without the PAN: its length is held to the
   * processor's rules, and the processor, which has the PAN, reads the rest (a PIN it refuses fails
   * the change, as any PIN block it cannot apply).
   */
  private pinChange(issuerId: string, cardId: string, push: D1Push, route: D1IssuerRoute, claim: (commandId: string) => Promise<void>): Submission {
    return {
      fingerprintSource: { door: 'thales-d1', issuerId, cardId, type: push.type, vendor: route.vendor },
      draft: async (commandId) => {
        const draft = push.type === 'ISO0' ? await this.iso0PinBlockChange(cardId, push, route, commandId) : await this.seccosPinChange(cardId, push.pin, route, commandId);
        // Claimed once the PIN passed the rules, so that only the commit can fail after it.
        await claim(commandId);
        return draft;
      },
    };
  }

  private async seccosPinChange(cardId: string, pin: string, route: D1IssuerRoute, commandId: string): Promise<CommandDraft> {
    return this.submissions.of('pismo', PISMO_CHANGE_PIN, { cardId }, { encryptedPin: await encryptSecret('pin', pin, this.callerKeys), syncOfflinePin: route.syncOfflinePin }).draft(commandId);
  }

  private async iso0PinBlockChange(cardId: string, push: Extract<D1Push, { type: 'ISO0' }>, route: D1IssuerRoute, commandId: string): Promise<CommandDraft> {
    const { minLength, maxLength } = ISO0_PIN_BLOCKS[route.vendor]!.pinRules;
    if (push.pinLength < minLength || push.pinLength > maxLength) throw new D1Error(400, 'PIN_REJECTED', `The PIN does not meet the PIN rules: the processor takes ${minLength} to ${maxLength} digits.`);
    const encryptedPinBlock = await this.secrets.sealForCommand('pinBlock', push.pinBlock, { vendor: 'pismo', cardId, commandId });
    return { vendor: 'pismo', operation: 'update_pin_block', pinBlockSource: 'iso0_block', cardId, encryptedPinBlock, syncOfflinePin: route.syncOfflinePin };
  }

  /** Frees the card of a push that will not run; should that fail, the claim is taken over once abandoned (D1ChangeCounters). */
  private async release(commandId: string, context: { correlationId?: string; issuerId: string; cardId: string }): Promise<void> {
    await this.counters.release(commandId).catch((releaseError: unknown) => this.logger.warn({ err: releaseError, ...context }, 'the card a refused push held could not be freed'));
  }
}
