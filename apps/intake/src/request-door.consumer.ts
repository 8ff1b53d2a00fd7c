import { Controller, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type AuthenticatedPrincipal, PIN_WRITE_SCOPE, SignatureRejectedError } from '@pinflow/auth';
import { buildEvent, cardId, deterministicEventId, EVENT_TYPES, REQUEST_SCHEMA_VERSION, REQUEST_SIGNATURE_HEADER, requestEnvelope, requesterOfTopic, requestSchemaOf, requestTopic, VENDORS } from '@pinflow/contracts';
import { problem, Problem, ProblemException, TemporarilyUnavailableException, ZodValidationPipe } from '@pinflow/http';
import { ensureTopics, HandlerVerdict, JsonProducer, KafkaMessageContext, MessageMeta, PinflowKafkaServer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { Kafka } from 'kafkajs';
import { z } from 'zod';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { KafkaRequesters, requesterTopicSpecs } from './kafka-requesters';
import { answerBatches, RequestsService } from './requests.service';
import { Submissions } from './submissions';
import { INTAKE_LOGGER } from './tokens';

type Envelope = z.output<typeof requestEnvelope>;

/** Who a rejection answers, as far as the message tells. */
interface Rejected {
  envelope: Envelope;
  /** The requester who validly signed it; its answer is copied to its reply topic only then. */
  requester?: string;
  replyTopic?: string;
}

const deadLetter = (reason: HandlerVerdict['deadLetter']['reason'], detail: string): HandlerVerdict => ({ deadLetter: { reason, detail, attempts: 1 } });

/** Names the handler of the requesters' request topics; which topics those are is configuration (see app.module). */
export const REQUEST_TOPICS = requestTopic('*');

/**
 * intake's front door on Kafka (a request topic per requester): the HTTP controllers' counterpart.
 * A request is authenticated by its signature instead of a bearer token, and must be signed by the
 * requester whose topic it came on: a consumer is not told who produced a record, but where Kafka
 * authentication is on only that requester's principal may write its topic, so the producer is the
 * signer. It is then validated, checked, recorded and
 * answered by the same code as over HTTP; only the answer differs: an accepted or rejected event,
 * correlated by the requester's `clientRequestId`, instead of a 202 or a problem document. Cards are
 * worked on concurrently, each card's requests in order, so acceptances share group commits.
 */
@Controller()
export class RequestDoorConsumer {
  constructor(
    private readonly requests: RequestsService,
    private readonly submissions: Submissions,
    private readonly requesters: KafkaRequesters,
    private readonly producer: JsonProducer,
    @Inject(INTAKE_LOGGER) private readonly logger: Logger,
  ) {}

  // Group and concurrency are deployment settings: see the `handlers` of intake's Kafka transport.
  @EventPattern(REQUEST_TOPICS)
  async receive(@Payload() message: unknown, @Ctx() context: KafkaMessageContext): Promise<HandlerVerdict | void> {
    const [meta] = context.getMessages();
    const envelope = requestEnvelope.safeParse(message);
    let requester: string;
    try {
      requester = await this.requesters.verify(meta.rawValue ?? new Uint8Array(), meta.headers[REQUEST_SIGNATURE_HEADER]);
    } catch (error) {
      if (!(error instanceof SignatureRejectedError)) throw error;
      if (envelope.success) await this.reject(meta, { envelope: envelope.data }, problem(401, 'SIGNATURE_INVALID', 'The request is not validly signed', error.message));
      return deadLetter('SIGNATURE_INVALID', error.message);
    }
    const owner = requesterOfTopic(meta.topic);
    if (requester !== owner) {
      // Not answered in the signer's name nor on its reply topic: it may be another's replay of the signer's request.
      const detail = `signed by ${requester}, on the request topic of ${owner ?? 'no requester'}`;
      if (envelope.success) await this.reject(meta, { envelope: envelope.data }, problem(403, 'REQUESTER_MISMATCH', "The request is not signed by the requester whose topic it is on", detail));
      return deadLetter('REQUESTER_MISMATCH', detail);
    }
    if (!envelope.success) return deadLetter('CONTRACT_VIOLATION', envelope.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`).join('; '));
    const { clientRequestId, replyTopic, schemaVersion } = envelope.data;
    const allowedReplyTopic = replyTopic !== undefined && this.requesters.mayReplyOn(requester, replyTopic) ? replyTopic : undefined;
    const rejected: Rejected = { envelope: envelope.data, requester, replyTopic: allowedReplyTopic };
    if (schemaVersion !== REQUEST_SCHEMA_VERSION) {
      await this.reject(meta, rejected, problem(400, 'SCHEMA_VERSION_UNSUPPORTED', 'Unknown schema version', `This intake takes schemaVersion ${REQUEST_SCHEMA_VERSION}.`));
      return deadLetter('CONTRACT_VIOLATION', 'schemaVersion: unsupported');
    }
    if (replyTopic !== undefined && allowedReplyTopic === undefined) {
      return this.reject(meta, rejected, problem(403, 'REPLY_TOPIC_NOT_ALLOWED', 'The reply topic is not one of the requester\'s', 'Ask for a registered reply topic, or for none.'));
    }
    try {
      const schema = requestSchemaOf(envelope.data.vendor, envelope.data.operation);
      if (!schema) throw new ProblemException(400, 'VALIDATION_FAILED', 'Invalid request', 'No such vendor and operation.', { errors: [{ pointer: '/operation', code: 'invalid_value', message: 'unknown vendor or operation' }] });
      const request = new ZodValidationPipe(schema, 'request').transform(message);
      const accepted = await this.requests.submit(
        { principal: this.principalOf(requester), idempotencyKey: clientRequestId, replyTopic: allowedReplyTopic },
        this.submissions.fromKafka(request),
      );
      // A new request's answer is in the outbox with its command; a repeat gets that same answer again.
      if (accepted.replayed) await this.producer.sendBatch(answerBatches(accepted.event, allowedReplyTopic));
    } catch (error) {
      // Unavailable is no answer: the message is retried (and an infrastructure fault waited out).
      if (!(error instanceof ProblemException) || error instanceof TemporarilyUnavailableException) throw error;
      await this.reject(meta, rejected, error.problem);
    }
  }

  /** The requester as the shared path sees a caller: a token's subject, write scope and tenant claim. */
  private principalOf(requester: string): AuthenticatedPrincipal {
    const tenant = this.requesters.tenantOf(requester);
    return { subject: requester, scopes: new Set([PIN_WRITE_SCOPE]), ...(tenant === undefined ? {} : { tenant }) };
  }

  /** Answers a refused request with the problem the HTTP door would have given, if it says which card and request it is. */
  private async reject(meta: MessageMeta, { envelope, requester, replyTopic }: Rejected, refusal: Problem): Promise<void> {
    const card = cardId.safeParse(meta.key);
    this.logger.info({ offset: meta.offset, partition: meta.partition, requester, clientRequestId: envelope.clientRequestId, refusal: refusal.code }, 'request from Kafka rejected');
    if (!card.success) return;
    const vendor = z.enum(VENDORS).safeParse(envelope.vendor);
    const event = buildEvent(EVENT_TYPES.rejected, {
      // A redelivered message gets the same answer, which consumers deduplicate.
      id: deterministicEventId(EVENT_TYPES.rejected, meta.topic, String(meta.partition), meta.offset),
      source: '/pinflow/intake',
      cardId: card.data,
      data: {
        ...(vendor.success ? { vendor: vendor.data } : {}),
        ...(typeof envelope.operation === 'string' ? { operation: envelope.operation.slice(0, 64) } : {}),
        ...(requester ? { caller: requester } : {}),
        clientRequestId: envelope.clientRequestId,
        problem: refusal,
      },
    });
    await this.producer.sendBatch(answerBatches(event, replyTopic));
  }
}

/**
 * Keeps the Kafka door on the requesters registered now: when a reload of INTAKE_KAFKA_REQUESTERS_FILE
 * changes them, creates the topics of a new requester, then restarts the door's consumer on the new
 * list of request topics (a removed requester's is no longer read; its signatures no longer verify).
 * A restart rather than a RegExp subscription (`pinflow.requests.*.v1`): kafkajs matches a RegExp only
 * against the topics that exist when the consumer starts, and it would read the topics of requesters
 * nobody registered besides.
 */
@Injectable()
export class RequesterSubscriptions implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly requesters: KafkaRequesters,
    private readonly kafka: Kafka,
    private readonly server: PinflowKafkaServer,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.requesters.onChange(async (topics) => {
      await ensureTopics(this.kafka, requesterTopicSpecs(this.config, topics), this.config.KAFKA_REPLICATION_FACTOR);
      await this.server.consumeTopics(REQUEST_TOPICS, topics.requestTopics);
    });
  }

  onApplicationShutdown(): void {
    this.requesters.close();
  }
}
