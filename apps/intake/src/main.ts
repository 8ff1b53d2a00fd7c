import 'reflect-metadata';
import { loadConfig, startOrExit } from '@pinflow/config';
import { startHttpApp } from '@pinflow/http';
import { connectKafkaTransport, isInfrastructureFault } from '@pinflow/kafka';
import { intakeConfigSchema } from './config';
import { AppModule } from './app.module';
import { writeAdmission } from './acceptance';

void startOrExit(async () => {
  const config = loadConfig('intake', intakeConfigSchema);
  await startHttpApp(await AppModule.forRoot(config), { service: 'intake', host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_MS, admission: writeAdmission(config), isUnavailable: isInfrastructureFault, beforeListen: connectKafkaTransport });
});
