import 'reflect-metadata';
import { loadConfig, startOrExit } from '@pinflow/config';
import { startHttpApp } from '@pinflow/http';
import { connectKafkaTransport, isInfrastructureFault } from '@pinflow/kafka';
import { AppModule } from './app.module';
import { auditConfigSchema } from './config';

void startOrExit(async () => {
  const config = loadConfig('audit', auditConfigSchema);
  await startHttpApp(AppModule.forRoot(config), { service: 'audit', host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_MS, isUnavailable: isInfrastructureFault, beforeListen: connectKafkaTransport });
});
