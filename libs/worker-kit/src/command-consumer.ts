import { ArgumentsHost, Catch, Controller, Inject, RpcExceptionFilter, Type, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { COMMAND_SCHEMAS, commandTopic, Vendor } from '@pinflow/contracts';
import { ContractPipe, ContractViolation, HandlerVerdict, InFlightLimit, KafkaHandlerOptions, KafkaMessageContext, REPLAYED_FROM_HEADER } from '@pinflow/kafka';
import { from, mergeMap, Observable, throwError } from 'rxjs';
import { CommandOf, CommandRunner } from './command-runner';

export interface CommandHandlerOptions<V extends Vendor> {
  vendor: V;
  groupId: string;
  /** Commands worked on at once, across partitions; each card's commands stay in order. */
  commandsInFlight: number;
  /** The vendor's command topic unless told otherwise. */
  topic?: string;
}

/** Tells a broken command's requester that it failed (when it says who that is), then lets the transport dead-letter it. */
@Catch(ContractViolation)
class CommandRejection implements RpcExceptionFilter<ContractViolation> {
  constructor(private readonly runner: CommandRunner) {}

  catch(violation: ContractViolation, host: ArgumentsHost): Observable<never> {
    const [meta] = host.switchToRpc().getContext<KafkaMessageContext>().getMessages();
    return from(this.runner.rejectInvalid(violation.raw, violation.issues, meta)).pipe(mergeMap(() => throwError(() => violation)));
  }
}

/**
 * The controller that hands a vendor's commands to the runner. Commands are keyed by card, so a card
 * whose vendor call is being retried holds back its own later commands, and the other cards go on.
 * Any partition may use every place in flight: keys are rarely spread evenly over the partitions of
 * one fetch. A class per vendor, since a handler's topic is fixed when it is decorated.
 */
export function commandHandler<V extends Vendor>(options: CommandHandlerOptions<V>): Type<unknown> {
  const handlerOptions: KafkaHandlerOptions = {
    groupId: options.groupId,
    keysConsumedConcurrently: options.commandsInFlight,
    inFlight: new InFlightLimit(options.commandsInFlight),
  };

  @Controller()
  class CommandHandler {
    constructor(@Inject(CommandRunner) private readonly runner: CommandRunner<CommandOf<V>>) {}

    @EventPattern(options.topic ?? commandTopic(options.vendor), handlerOptions)
    @UseFilters(CommandRejection)
    handle(@Payload(new ContractPipe(COMMAND_SCHEMAS[options.vendor])) command: CommandOf<V>, @Ctx() context: KafkaMessageContext): Promise<HandlerVerdict | void> {
      const [meta] = context.getMessages();
      return this.runner.handle(command, meta.heartbeat, { replayed: REPLAYED_FROM_HEADER in meta.headers });
    }
  }
  return CommandHandler;
}
