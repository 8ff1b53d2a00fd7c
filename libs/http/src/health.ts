import { Abstract, Controller, DynamicModule, Get, Inject, Module, OnApplicationBootstrap, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { MetricsController } from './metrics';

/** One dependency readiness depends on (broker, database, consumer). */
export interface ReadinessProbe {
  name: string;
  isReady: () => Promise<boolean> | boolean;
  /** Reported in the body (`degraded`) but never makes the service unready. */
  informational?: boolean;
}

export interface ReadinessProbesDefinition {
  /** Providers of the app (anywhere in it) that the probes need. */
  inject: (Type<unknown> | Abstract<unknown> | string | symbol)[];
  useFactory: (...dependencies: never[]) => ReadinessProbe[];
}

const READINESS_DEFINITION = Symbol('READINESS_DEFINITION');

@Controller('health')
class HealthController implements OnApplicationBootstrap {
  private probes: ReadinessProbe[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
    @Inject(READINESS_DEFINITION) private readonly definition: ReadinessProbesDefinition,
  ) {}

  // The probed providers live in the app's own module, out of this module's scope: look them up
  // app-wide once everything is constructed.
  onApplicationBootstrap(): void {
    const dependencies = this.definition.inject.map((token) => this.moduleRef.get(token, { strict: false }));
    this.probes = (this.definition.useFactory as (...args: unknown[]) => ReadinessProbe[])(...dependencies);
  }

  /** Liveness: the event loop answers. Deliberately independent of dependencies, so a rebalance or a broker blip never restarts the pod. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(
      this.probes.map((probe) => async () => {
        const indicator = this.indicators.check(probe.name);
        if (await probe.isReady()) return indicator.up();
        return probe.informational ? indicator.up({ degraded: true }) : indicator.down();
      }),
    );
  }
}

/** `/health/live` and `/health/ready`, where readiness is the conjunction of the app's probes; and `/metrics` for Prometheus. */
@Module({})
export class HealthModule {
  static register(definition: ReadinessProbesDefinition): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [{ provide: READINESS_DEFINITION, useValue: definition }],
    };
  }
}
