import 'reflect-metadata';
import { loadConfig, startOrExit } from '@pinflow/config';
import { startHttpApp } from '@pinflow/http';
import { connectKafkaTransport, isInfrastructureFault } from '@pinflow/kafka';
import { intakeConfigSchema } from './config';
import { AppModule } from './app.module';

void startOrExit(async () => {
  const config = loadConfig('intake', intakeConfigSchema);
  await startHttpApp(AppModule.forRoot(config), { service: 'intake', host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_MS, isUnavailable: isInfrastructureFault, beforeListen: connectKafkaTransport });
});
