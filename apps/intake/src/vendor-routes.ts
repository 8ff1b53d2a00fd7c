import { Body, Controller, HttpCode, Inject, Param, Post, Type } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import type { VendorContract } from '@pinflow/contracts';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance, HttpDoor } from './acceptance';
import type { AcceptedResponse } from './api-schemas';
import { Submissions } from './submissions';

const camel = (name: string) => name.replace(/[-_](\w)/g, (_, letter: string) => letter.toUpperCase());

/**
 * A vendor's write endpoints as a Nest controller, built from its contract: `POST /v1/<vendor>/<path>`
 * per route, each path parameter and the body validated by the contract's schemas, scope pin:write,
 * an Idempotency-Key, 202 with the status URL. What the decorators of a hand-written controller
 * would say, applied to each route in turn.
 */
export function vendorController(vendor: VendorContract): Type<unknown> {
  class VendorRoutes {
    constructor(
      @Inject(HttpDoor) readonly door: HttpDoor,
      @Inject(Submissions) readonly submissions: Submissions,
    ) {}
  }
  Object.defineProperty(VendorRoutes, 'name', { value: `${camel(`-${vendor.name}`)}Controller` });
  const prototype = VendorRoutes.prototype as unknown as Record<string, unknown>;
  for (const route of vendor.routes) {
    const names = Object.keys(route.params);
    const handler = camel(route.operation);
    prototype[handler] = function (this: VendorRoutes, ...args: unknown[]): Promise<AcceptedResponse> {
      const params = Object.fromEntries(names.map((name, index) => [name, args[index] as string]));
      const [body, acceptance] = args.slice(names.length) as [Record<string, unknown> | undefined, Acceptance];
      return this.door.accept(acceptance, this.submissions.of(vendor.name, route, params, body));
    };
    names.forEach((name, index) => Param(name, new ZodValidationPipe(route.params[name].schema, route.params[name].label))(prototype, handler, index));
    Body(new ZodValidationPipe(route.body))(prototype, handler, names.length);
    Accepting()(prototype, handler, names.length + 1);
    const descriptor = Object.getOwnPropertyDescriptor(prototype, handler)!;
    Post(route.path)(prototype, handler, descriptor);
    HttpCode(202)(prototype, handler, descriptor);
  }
  RequireScopes(PIN_WRITE_SCOPE)(VendorRoutes);
  Controller(`v1/${vendor.name}`)(VendorRoutes);
  return VendorRoutes;
}
