import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name}.`);
  return value;
}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(
    AppModule.register({
      databaseUrl: required('DATABASE_URL'),
      clientId: required('PIPEDRIVE_CLIENT_ID'),
      clientSecret: required('PIPEDRIVE_CLIENT_SECRET'),
      redirectUri: required('PIPEDRIVE_REDIRECT_URI'),
      oauthBaseUrl: process.env.PIPEDRIVE_OAUTH_URL,
      encryptionKey: required('PIPEDRIVE_ENCRYPTION_KEY'),
      sessionSecret: required('SESSION_SECRET'),
    }),
  );
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
}
await bootstrap();
