import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app/app.module.js';
import { AppConfigError, loadAppConfig } from './app/config/app-config.js';
import { configureApp } from './app/configure-app.js';
import { PipedriveConfigurationError } from './index.js';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  // Validate before Nest starts so a misconfiguration reads as one clear line, not a stack of module errors.
  const { port } = loadAppConfig(process.env);
  const app = configureApp(await NestFactory.create(AppModule.forRoot(process.env)));
  await app.listen(port);
  new Logger('Main').log(`Listening on http://localhost:${port}`);
}

main().catch((error: unknown) => {
  if (error instanceof AppConfigError || error instanceof PipedriveConfigurationError) {
    console.error(`Configuration error: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
