import 'reflect-metadata';
import { loadConfig, startOrExit } from '@pinflow/config';
import { startHttpApp } from '@pinflow/http';
import { connectKafkaTransport, isInfrastructureFault } from '@pinflow/kafka';
import { AuditModule } from './audit.module';
import { auditConfigSchema } from './config';

void startOrExit(async () => {
  const config = loadConfig('audit', auditConfigSchema);
  await startHttpApp(AuditModule.forRoot(config), { service: 'audit', host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_MS, isUnavailable: isInfrastructureFault, beforeListen: connectKafkaTransport });
});
