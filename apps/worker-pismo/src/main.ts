import 'reflect-metadata';
import { loadConfig, startOrExit } from '@pinflow/config';
import { startHttpApp } from '@pinflow/http';
import { connectKafkaTransport } from '@pinflow/kafka';
import { workerConfigSchema } from './config';
import { AppModule } from './app.module';

void startOrExit(async () => {
  const config = loadConfig('worker-pismo', workerConfigSchema);
  await startHttpApp(AppModule.forRoot(config), { service: 'worker-pismo', host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_MS, beforeListen: connectKafkaTransport });
});
