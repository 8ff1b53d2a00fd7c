import { Controller, DynamicModule, Inject, Module, Provider, Type } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Vendor } from '@pinflow/contracts';
import { HealthModule, httpLoggerModule, ReadinessProbe } from '@pinflow/http';
import { ContractPipe, InFlightLimit, JsonProducer, KafkaHandlerOptions, KafkaModule, kafkaTransportProvider, PinflowKafkaServer, pinflowTopicSpecs } from '@pinflow/kafka';
import { createLogger, Logger } from '@pinflow/logging';
import { SqlModule, SqlPool, sqlIsReachable } from '@pinflow/sql';
import { commandTopic } from '@pinflow/contracts';
import type { z } from 'zod';
import { commandHandler } from './command-consumer';
import { CommandLedger } from './command-ledger';
import { CommandOf, CommandRunner, VendorAdapter } from './command-runner';
import type { WorkerSettings } from './config';
import type { RetryPolicy } from './retry-policy';
import { OverdueSweep } from './overdue-sweep';
import { VendorEvent, VendorEventRunner } from './vendor-events';

/**
 * How long the worker's producer, when idle, waits for other handlers' sends to share its request:
 * Kafka's own producers wait 5 ms by default since 4.0 (KIP-1030). Commands and vendor events are
 * handled concurrently and each publishes its outcome on its own; at 90 PIN changes/s that was one
 * produce request per event (0.46 per change, 0.18 with the wait).
 */
const PRODUCER_LINGER_MS = 5;

/** The worker's logger (pino), for the vendor's own providers. */
export const WORKER_LOGGER = Symbol('WORKER_LOGGER');
const VENDOR_ADAPTER = Symbol('VENDOR_ADAPTER');

/** Where a vendor publishes its own events about the cards, and how the worker reads them. */
export interface VendorEventSource<S extends z.ZodType> {
  /** Created at start-up if missing, with KAFKA_EVENT_PARTITIONS partitions. */
  topic: string;
  groupId: string;
  /** The vendor's event schema: lenient on what pinflow does not use. */
  schema: S;
  /** The event as the kit handles it; undefined for a type the worker does not react to. */
  route(event: z.output<S>): VendorEvent | undefined;
  /** How long a command waits for the vendor's event before it fails with OUTCOME_UNKNOWN. */
  timeoutMs: number;
}

export interface WorkerKitOptions<V extends Vendor, S extends z.ZodType> {
  vendor: V;
  config: WorkerSettings;
  retryPolicy: RetryPolicy;
  /** The vendor's adapter, a Nest provider: it may inject the vendor's client, PinKeyRing, WORKER_LOGGER. */
  adapter: Type<VendorAdapter<CommandOf<V>>>;
  /** The vendor's own providers: its HTTP client, PinKeyRing. */
  providers?: Provider[];
  /** The vendor's own events, for vendors that settle commands (or report on cards) by event. */
  vendorEvents?: VendorEventSource<S>;
}

/**
 * A whole vendor worker but the vendor: logging, the database, Kafka (topics, producer), the command
 * consumer and its runner, the vendor's event consumer, and /health with a probe for each.
 */
@Module({})
export class WorkerKitModule {
  static forRoot<V extends Vendor, S extends z.ZodType>(options: WorkerKitOptions<V, S>): DynamicModule {
    const { vendor, config, vendorEvents } = options;
    const service = `worker-${vendor}`;
    const logger = createLogger(service, config.LOG_LEVEL);
    const consumers: [string, string][] = [['command-consumer', commandTopic(vendor)]];
    if (vendorEvents) consumers.push([`${vendor}-event-consumer`, vendorEvents.topic]);
    const topics = [...pinflowTopicSpecs(config), ...(vendorEvents ? [{ topic: vendorEvents.topic, partitions: config.KAFKA_EVENT_PARTITIONS }] : [])];
    return {
      module: WorkerKitModule,
      imports: [
        httpLoggerModule(service, config.LOG_LEVEL),
        SqlModule.forRoot(config.DATABASE_URL, config.DATABASE_POOL_SIZE),
        KafkaModule.forRoot({ settings: config, clientId: `pinflow-${service}`, logger, topics, producerLingerMs: PRODUCER_LINGER_MS }),
        HealthModule.register({
          inject: [SqlPool, CommandRunner, PinflowKafkaServer],
          useFactory: (pool: SqlPool, runner: CommandRunner, transport: PinflowKafkaServer): ReadinessProbe[] => [
            { name: 'database', isReady: () => sqlIsReachable(pool) },
            ...consumers.map(([name, topic]) => ({ name, isReady: () => transport.isHealthy(topic) })),
            // A vendor outage is no reason to take the worker out of service: commands wait for the vendor.
            { name: `${vendor}-circuit-breaker`, isReady: () => runner.circuitState === 'closed', informational: true },
          ],
        }),
      ],
      providers: [
        { provide: WORKER_LOGGER, useValue: logger },
        { provide: VENDOR_ADAPTER, useClass: options.adapter },
        { provide: CommandLedger, inject: [SqlPool], useFactory: (pool: SqlPool) => new CommandLedger(pool, vendor) },
        {
          provide: CommandRunner,
          inject: [VENDOR_ADAPTER, CommandLedger, JsonProducer],
          useFactory: (adapter: VendorAdapter<CommandOf<V>>, ledger: CommandLedger, producer: JsonProducer) =>
            new CommandRunner(adapter, ledger, producer, options.retryPolicy, logger),
        },
        {
          provide: VendorEventRunner,
          inject: [CommandLedger, JsonProducer],
          useFactory: (ledger: CommandLedger, producer: JsonProducer) => new VendorEventRunner(ledger, producer, logger),
        },
        kafkaTransportProvider({ logger, groupId: config.WORKER_COMMAND_GROUP, partitionsConsumedConcurrently: config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY }),
        {
          provide: OverdueSweep,
          inject: [CommandRunner],
          useFactory: (runner: CommandRunner) =>
            new OverdueSweep(runner, { republishAfterMs: config.WORKER_REPUBLISH_AFTER_MS, vendorEventTimeoutMs: vendorEvents?.timeoutMs }, logger),
        },
        ...(options.providers ?? []),
      ],
      controllers: [
        commandHandler({ vendor, groupId: config.WORKER_COMMAND_GROUP, commandsInFlight: config.WORKER_COMMANDS_IN_FLIGHT }),
        ...(vendorEvents ? [vendorEventHandler(vendorEvents, config, logger.child({ consumer: `${vendor}-events` }))] : []),
      ],
    };
  }
}

/** The controller that turns the vendor's own events into pinflow events (a class per source: its topic is fixed when decorated). */
function vendorEventHandler<S extends z.ZodType>(source: VendorEventSource<S>, config: WorkerSettings, logger: Logger): Type<unknown> {
  const handlerOptions: KafkaHandlerOptions = {
    groupId: source.groupId,
    // Each card's events in order, as many cards at once as commands: every command may bring one.
    keysConsumedConcurrently: config.WORKER_COMMANDS_IN_FLIGHT,
    inFlight: new InFlightLimit(config.WORKER_COMMANDS_IN_FLIGHT),
  };

  @Controller()
  class VendorEventHandler {
    constructor(@Inject(VendorEventRunner) private readonly runner: VendorEventRunner) {}

    @EventPattern(source.topic, handlerOptions)
    async handle(@Payload(new ContractPipe(source.schema)) raw: z.output<S>): Promise<void> {
      const event = source.route(raw);
      if (event) return this.runner.handle(event);
      logger.debug('vendor event of a type the worker does not react to; skipped');
    }
  }
  return VendorEventHandler;
}
