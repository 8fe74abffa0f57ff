import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { PIPEDRIVE_ENTITIES, rotatePipedriveEncryptionKeys, type PipedriveKeyRotationSummary } from '../index.js';
import { AppConfigError, loadAppConfig, type Env } from './config/app-config.js';
import { typeOrmOptions } from './database/typeorm-options.js';

/**
 * `npm run rotate-keys`: re-encrypts every stored token under PIPEDRIVE_ENCRYPTION_KEY, reading the
 * old ones with PIPEDRIVE_PREVIOUS_ENCRYPTION_KEYS, on DATABASE_URL: the same variables as the app.
 * Runs beside the serving app. Exit code 0 when a previous key can now be dropped, 2 when rows are left.
 */
export async function rotateKeys(env: Env, batchSize?: number): Promise<PipedriveKeyRotationSummary> {
  const config = loadAppConfig(env);
  // The app's own DataSource settings, migrations included: a fresh database simply has nothing to rotate.
  const { autoLoadEntities: _auto, ...database } = typeOrmOptions(config.database) as Record<string, unknown>;
  const dataSource = new DataSource({
    ...database,
    entities: PIPEDRIVE_ENTITIES,
  } as unknown as DataSourceOptions);
  await dataSource.initialize();
  try {
    const { encryptionKey, previousEncryptionKeys } = config.pipedrive;
    return await rotatePipedriveEncryptionKeys(dataSource, {
      encryptionKey,
      previousEncryptionKeys,
      batchSize,
    });
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const batch = process.env.ROTATE_BATCH_SIZE ? Number(process.env.ROTATE_BATCH_SIZE) : undefined;
  const summary = await rotateKeys(process.env, batch);
  console.log(JSON.stringify(summary));
  if (summary.busy > 0 || summary.undecryptable > 0) {
    console.error(
      summary.undecryptable > 0
        ? `${summary.undecryptable} row(s) are under a key missing from PIPEDRIVE_PREVIOUS_ENCRYPTION_KEYS; add it and run again.`
        : `${summary.busy} row(s) were busy refreshing; run again.`,
    );
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof AppConfigError ? `Configuration error: ${error.message}` : error);
    process.exit(1);
  });
}
