import { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ProblemException } from './problem';

/**
 * Validates a request part with a zod schema; failures become a 400 problem listing each invalid
 * field as a JSON pointer with zod's code and message (zod's messages describe the rule, not the value).
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S, private readonly what = 'request body') {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw new ProblemException(400, 'VALIDATION_FAILED', 'Invalid request', `The ${this.what} is invalid.`, {
      errors: result.error.issues.map((issue) => ({ pointer: '/' + issue.path.join('/'), code: issue.code, message: issue.message })),
    });
  }
}
