import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@pinflow/auth';
import { databaseIsReachable, PrismaClient, PrismaModule } from '@pinflow/db';
import { HealthModule, httpLoggerModule, ReadinessProbe } from '@pinflow/http';
import { KafkaModule, pinflowTopicSpecs } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { loadPinKeyRing, PinKeyRing } from '@pinflow/pin-crypto';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { OpenApiController } from './openapi.controller';
import { PinKeysController } from './pin-keys.controller';
import { PismoController } from './pismo.controller';
import { SolarisController } from './solaris.controller';
import { ThalesD1Controller } from './thales-d1.controller';
import { VaultController } from './vault.controller';
import { RequestStatusConsumer } from './request-status.consumer';
import { RequestStatusService } from './request-status.service';
import { RequestsController } from './requests.controller';
import { RequestsService } from './requests.service';
import { INTAKE_LOGGER } from './tokens';

@Module({})
export class IntakeModule {
  static forRoot(config: IntakeConfig): DynamicModule {
    const logger = createLogger('intake', config.LOG_LEVEL);
    return {
      module: IntakeModule,
      imports: [
        httpLoggerModule('intake', config.LOG_LEVEL),
        PrismaModule.forRoot(config.DATABASE_URL, config.DATABASE_POOL_SIZE),
        KafkaModule.forRoot({ settings: config, clientId: 'pinflow-intake', logger, topics: pinflowTopicSpecs(config) }),
        AuthModule.forRoot(config),
        HealthModule.register({
          inject: [PrismaClient, RequestStatusConsumer],
          useFactory: (prisma: PrismaClient, consumer: RequestStatusConsumer): ReadinessProbe[] => [
            { name: 'database', isReady: () => databaseIsReachable(prisma) },
            { name: 'kafka', isReady: () => consumer.isHealthy() },
          ],
        }),
      ],
      controllers: [PismoController, SolarisController, ThalesD1Controller, VaultController, RequestsController, PinKeysController, OpenApiController],
      providers: [
        { provide: INTAKE_CONFIG, useValue: config },
        { provide: INTAKE_LOGGER, useValue: logger },
        { provide: PinKeyRing, useFactory: () => loadPinKeyRing(config) },
        RequestsService,
        RequestStatusService,
        RequestStatusConsumer,
      ],
    };
  }
}
