import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { VENDOR_CONTRACTS } from '@pinflow/contracts';
import { HTTP_CONTROLLERS } from './app.module';
import { openApiDocument } from './openapi';

/** Every route Nest maps for intake's controllers, as OpenAPI path and method. */
function servedRoutes(): string[] {
  return HTTP_CONTROLLERS.flatMap((controller) => {
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller));
    const prototype = controller.prototype as Record<string, unknown>;
    return Object.getOwnPropertyNames(prototype)
      .filter((name) => name !== 'constructor' && Reflect.hasMetadata(PATH_METADATA, prototype[name] as object))
      .map((name) => {
        const handler = prototype[name] as object;
        const path = [prefix, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((part) => part && part !== '/').join('/');
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod].toLowerCase();
        return `${method} /${path.replace(/:(\w+)/g, '{$1}')}`;
      });
  });
}

describe("intake's OpenAPI document", () => {
  const paths: Record<string, Record<string, any>> = openApiDocument().paths;
  const documented = Object.entries(paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`));

  it('describes every route intake serves', () => {
    expect(servedRoutes().length).toBeGreaterThan(10);
    expect(documented).toEqual(expect.arrayContaining(servedRoutes()));
  });

  it("has each vendor's write endpoints, generated from its contract", () => {
    for (const vendor of VENDOR_CONTRACTS) {
      for (const route of vendor.routes) {
        expect(documented).toContain(`post /v1/${vendor.name}/${route.path.replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  });

  it("takes a body's schema and its path parameters' patterns from the zod schemas that validate them", () => {
    const changePin = paths['/v1/thales-d1/issuers/{issuerId}/cards/{cardId}/pin'].post;
    const body = changePin.requestBody.content['application/json'].schema;

    expect(body).toMatchObject({ type: 'object', additionalProperties: false, properties: { pinBlockFormat: { enum: ['ISO0', '3DES_SECCOS'] }, encryptedPin: { type: 'string', maxLength: 8192 } } });
    expect(changePin.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'issuerId', in: 'path', schema: expect.objectContaining({ minLength: 10, maxLength: 10, pattern: '^[A-Za-z0-9_-]+$' }) }),
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }),
      ]),
    );
    expect(changePin.responses['202'].content['application/json'].schema).toMatchObject({ required: ['requestId', 'status', 'statusUrl'] });
  });

  it('marks a body optional where the endpoint takes none', () => {
    expect(paths['/v1/pismo/cards/{cardId}/password-tries/reset'].post.requestBody.required).toBe(false);
    expect(paths['/v1/pismo/cards/{cardId}/pin'].post.requestBody.required).toBe(true);
  });
});
