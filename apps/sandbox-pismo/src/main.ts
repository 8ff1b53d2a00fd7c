import 'reflect-metadata';
import { loadConfig, startOrExit } from '@pinflow/config';
import { startHttpApp } from '@pinflow/http';
import { BeforeEndpointErrorFilter } from '@pinflow/sandbox-kit';
import { AppModule } from './app.module';
import { sandboxConfigSchema } from './config';

void startOrExit(async () => {
  const config = loadConfig('sandbox-pismo', sandboxConfigSchema);
  await startHttpApp(AppModule.forRoot(config), { service: 'sandbox-pismo', host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_MS, errorFilter: BeforeEndpointErrorFilter });
});
