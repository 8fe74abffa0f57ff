import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const WEBHOOKS = 'pipedrive_webhooks';
const EVENTS = 'pipedrive_webhook_events';

/** The webhook registrations and the inbox; Table API only, so it runs on SQLite and PostgreSQL. */
export class CreatePipedriveWebhookTables1767312000000 implements MigrationInterface {
  name = 'CreatePipedriveWebhookTables1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: WEBHOOKS,
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'connection_id', type: 'varchar', length: '36' },
          { name: 'company_id', type: 'bigint' },
          { name: 'user_id', type: 'bigint' },
          { name: 'event_action', type: 'varchar', length: '16' },
          { name: 'event_object', type: 'varchar', length: '16' },
          { name: 'subscription_url', type: 'varchar', length: '2048' },
          { name: 'pipedrive_id', type: 'bigint', isNullable: true },
          { name: 'password_hash', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
      true,
    );
    await queryRunner.createIndex(WEBHOOKS, new TableIndex({ name: 'IDX_pipedrive_webhooks_connection', columnNames: ['connection_id'] }));
    await queryRunner.createTable(
      new Table({
        name: EVENTS,
        columns: [
          { name: 'event_id', type: 'varchar', length: '100', isPrimary: true },
          { name: 'connection_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'webhook_id', type: 'varchar', length: '36' },
          { name: 'company_id', type: 'bigint' },
          { name: 'action', type: 'varchar', length: '16' },
          { name: 'entity', type: 'varchar', length: '16' },
          { name: 'entity_id', type: 'varchar', length: '64' },
          { name: 'event_time', type: 'bigint' },
          { name: 'received_at', type: 'bigint' },
          { name: 'payload', type: 'text' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'next_attempt_at', type: 'bigint' },
          { name: 'lease_owner', type: 'varchar', length: '64', isNullable: true },
          { name: 'lease_until', type: 'bigint', isNullable: true },
          { name: 'completed_handlers', type: 'text', default: "''" },
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'handled_at', type: 'bigint', isNullable: true },
        ],
      }),
      true,
    );
    // The dispatcher's claim: pending rows that are due.
    await queryRunner.createIndex(
      EVENTS,
      new TableIndex({ name: 'IDX_pipedrive_webhook_events_due', columnNames: ['status', 'next_attempt_at'] }),
    );
    // Per-record ordering: is an earlier event of the same record still pending?
    await queryRunner.createIndex(
      EVENTS,
      new TableIndex({ name: 'IDX_pipedrive_webhook_events_entity', columnNames: ['connection_id', 'entity', 'entity_id', 'status'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(EVENTS, true);
    await queryRunner.dropTable(WEBHOOKS, true);
  }
}
