import { Controller, DynamicModule, Get, Inject, Module, Provider } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';

/** One dependency readiness depends on (broker, database, consumer). */
export interface ReadinessProbe {
  name: string;
  isReady: () => Promise<boolean> | boolean;
}

export const READINESS_PROBES = Symbol('READINESS_PROBES');

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
  ) {}

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
        return (await probe.isReady()) ? indicator.up() : indicator.down();
      }),
    );
  }
}

@Module({})
export class HealthModule {
  /** `probes` is a provider for READINESS_PROBES, built from the app's own services. */
  static register(probes: Omit<Provider, 'provide'> & { inject?: unknown[] }): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [{ ...(probes as object), provide: READINESS_PROBES } as Provider],
    };
  }
}
