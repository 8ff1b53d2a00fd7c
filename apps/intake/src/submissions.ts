import { Injectable } from '@nestjs/common';
import { type PinflowRequest, type RouteContract, routeOf, type SecretField, type Vendor } from '@pinflow/contracts';
import type { Submission } from './requests.service';
import { SealTarget, SecretInput, SecretSealer } from './secrets';

type Body = Record<string, unknown> | undefined;

/**
 * What a request becomes, from a vendor's route (its contract in @pinflow/contracts), the validated
 * path parameters and body, whichever door it came through: `{ vendor, operation, ...parameters,
 * ...body }`, each secret checked against the vendor's rules and re-sealed to the vendor's command key
 * for that card and command.
 */
@Injectable()
export class Submissions {
  constructor(private readonly secrets: SecretSealer) {}

  of(vendor: string, route: RouteContract, params: Record<string, string>, body: Body): Submission {
    // An optional secret left out (the body schema allowed neither form) is as absent from the command as from the request.
    const secrets = Object.entries(route.secrets ?? {}).filter(([field, secret]) => !secret.optional || body?.[field] !== undefined || body?.[secret.clear] !== undefined);
    const secretFields = new Set(Object.entries(route.secrets ?? {}).flatMap(([field, secret]) => [field, secret.clear]));
    const identity = { vendor, operation: route.operation, ...params, ...Object.fromEntries(Object.entries(body ?? {}).filter(([field]) => !secretFields.has(field))) };
    return {
      // Secrets enter the stored fingerprint only as the caller sealed them: hashed, a clear PIN or one-time code is read back in a blink.
      // A left-out optional one does not enter it, so requests from before it existed hash as they did.
      fingerprintSource: { ...identity, ...Object.fromEntries(secrets.map(([field]) => [field, body?.[field] ?? null])) },
      draft: async (commandId) => {
        const sealed: Record<string, string> = {};
        const target = { vendor: vendor as Vendor, cardId: String((identity as Record<string, unknown>).cardId), commandId };
        // One after the other: a request with two bad secrets is refused for the first, every time.
        for (const [field, secret] of secrets) sealed[field] = await this.seal(secret, { encrypted: body?.[field] as string | undefined, clear: body?.[secret.clear] as string | undefined }, target);
        return { ...identity, ...sealed } as Awaited<ReturnType<Submission['draft']>>;
      },
    };
  }

  /** A request from the Kafka door, which carries the same path parameters and body. */
  fromKafka(request: PinflowRequest): Submission {
    const route = routeOf(request.vendor, request.operation);
    if (!route) throw new Error(`no route for ${request.vendor}.${request.operation}: the request schema should have refused it`);
    const params = Object.fromEntries(Object.keys(route.params).map((name) => [name, String(request[name])]));
    return this.of(request.vendor, route, params, request.body);
  }

  private seal(secret: SecretField, input: SecretInput, target: SealTarget): Promise<string> {
    if (secret.kind === 'pan') return this.secrets.sealPan(input, secret.panRules!, target);
    return this.secrets.seal(secret.kind, input, secret.pinRules, target);
  }
}
