import { Injectable, PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { ContractViolation, contractIssues } from '../consumer';

/**
 * Checks a message (or each message of a batch, `each`) against its contract. A message that breaks
 * it is dead-lettered as CONTRACT_VIOLATION by the transport, never retried; in a batch, the others
 * are then handled without it.
 */
@Injectable()
export class ContractPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S> | z.output<S>[]> {
  constructor(
    private readonly schema: S,
    private readonly options: { each?: boolean } = {},
  ) {}

  transform(value: unknown): z.output<S> | z.output<S>[] {
    return this.options.each ? (value as unknown[]).map((item) => this.parse(item)) : this.parse(value);
  }

  private parse(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw new ContractViolation(value, contractIssues(parsed.error));
    return parsed.data;
  }
}
