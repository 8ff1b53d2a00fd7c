import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ZodValidationPipe } from '@pinflow/http';
import type { Request } from 'express';
import { idempotencyKeyHeader } from './api-schemas';

const validate = new ZodValidationPipe(idempotencyKeyHeader, 'Idempotency-Key header');

/** The request's validated Idempotency-Key header, or undefined when the client sent none. */
export const IdempotencyKey = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined =>
  validate.transform(context.switchToHttp().getRequest<Request>().header('idempotency-key')),
);
