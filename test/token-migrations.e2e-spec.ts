import { PIPEDRIVE_MIGRATIONS } from '../src/database/pipedrive.entities.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './support/test-app.js';
import { createTokenFixture, type DatabaseKind, type TokenFixture } from './support/token-fixture.js';

describe.each<DatabaseKind>(['sqlite', 'postgres'])('PIPEDRIVE_MIGRATIONS on %s', (kind) => {
  let fx: TokenFixture;
  let instance: TestApp;

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    instance = await fx.start();
  });
  afterAll(() => fx?.close());

  it('create exactly the schema the entities describe (no drift for migration:generate)', async () => {
    const pending = await instance.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('revert and run again', async () => {
    for (const _ of PIPEDRIVE_MIGRATIONS) await instance.dataSource.undoLastMigration();
    for (const table of ['pipedrive_connections', 'pipedrive_webhooks', 'pipedrive_webhook_events', 'pipedrive_company_budgets']) {
      expect(await instance.dataSource.query(`SELECT 1 FROM ${table}`).catch(() => 'gone')).toBe('gone');
    }
    expect(await instance.dataSource.runMigrations()).toHaveLength(PIPEDRIVE_MIGRATIONS.length);
    await fx.saveExpired(instance, { companyId: 1, userId: 1 });
    expect(await instance.tokens.findConnectionByUser(1, 1)).toMatchObject({ companyId: 1, userId: 1 });
  });
});
