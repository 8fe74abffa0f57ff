import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const CONNECTIONS = 'pipedrive_connections';
const STATES = 'pipedrive_oauth_states';

/** Written with TypeORM's Table API only, so the one migration runs on SQLite and PostgreSQL. */
export class CreatePipedriveTables1767225600000 implements MigrationInterface {
  // Explicit: bundlers may rename the class, and TypeORM records migrations by name.
  name = 'CreatePipedriveTables1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(connectionsTable(), true);
    await queryRunner.createIndex(
      CONNECTIONS,
      new TableIndex({
        name: 'UQ_pipedrive_connections_company_user',
        columnNames: ['company_id', 'user_id'],
        isUnique: true,
      }),
    );
    // The refresh sweep selects active rows by expiry.
    await queryRunner.createIndex(
      CONNECTIONS,
      new TableIndex({ name: 'IDX_pipedrive_connections_status_expires_at', columnNames: ['status', 'expires_at'] }),
    );
    await queryRunner.createTable(statesTable(), true);
    await queryRunner.createIndex(STATES, new TableIndex({ name: 'IDX_pipedrive_oauth_states_expires_at', columnNames: ['expires_at'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(STATES, true);
    await queryRunner.dropTable(CONNECTIONS, true);
  }
}

function connectionsTable(): Table {
  return new Table({
    name: CONNECTIONS,
    columns: [
      { name: 'id', type: 'varchar', length: '36', isPrimary: true },
      { name: 'company_id', type: 'bigint' },
      { name: 'user_id', type: 'bigint' },
      { name: 'api_domain', type: 'varchar', length: '255' },
      { name: 'scopes', type: 'text' },
      { name: 'access_token', type: 'text', isNullable: true },
      { name: 'refresh_token', type: 'text', isNullable: true },
      { name: 'token_issued_at', type: 'bigint' },
      { name: 'expires_at', type: 'bigint' },
      { name: 'status', type: 'varchar', length: '32' },
      { name: 'version', type: 'integer', default: 0 },
      { name: 'lease_owner', type: 'varchar', length: '64', isNullable: true },
      { name: 'lease_until', type: 'bigint', isNullable: true },
      { name: 'refresh_failures', type: 'integer', default: 0 },
      { name: 'refresh_backoff_until', type: 'bigint', isNullable: true },
      { name: 'created_at', type: 'bigint' },
      { name: 'updated_at', type: 'bigint' },
    ],
  });
}

function statesTable(): Table {
  return new Table({
    name: STATES,
    columns: [
      { name: 'id', type: 'varchar', length: '64', isPrimary: true },
      { name: 'expires_at', type: 'bigint' },
    ],
  });
}
