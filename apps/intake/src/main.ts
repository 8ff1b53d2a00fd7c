import 'reflect-metadata';
import { loadConfig, startOrExit } from '@pinflow/config';
import { startHttpApp } from '@pinflow/http';
import { connectKafkaTransport, isInfrastructureFault } from '@pinflow/kafka';
import { intakeConfigSchema } from './config';
import { IntakeModule } from './intake.module';

void startOrExit(async () => {
  const config = loadConfig('intake', intakeConfigSchema);
  await startHttpApp(IntakeModule.forRoot(config), { service: 'intake', host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_MS, isUnavailable: isInfrastructureFault, beforeListen: connectKafkaTransport });
});
