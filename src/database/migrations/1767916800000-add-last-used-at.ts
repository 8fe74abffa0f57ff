import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const INDEX = 'IDX_pipedrive_connections_status_token_issued_at';

/**
 * When a token of the connection was last handed out, written at most once per token (the first use
 * after it was issued). The refresh sweep refreshes ahead only connections used since their token was
 * issued; the others wait for `keepAliveDays`. Null on rows written before this migration and on
 * connections nobody used yet: they count as idle until their next use. The index serves the sweep's
 * search for tokens `keepAliveDays` old.
 */
export class AddLastUsedAt1767916800000 implements MigrationInterface {
  name = 'AddLastUsedAt1767916800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('pipedrive_connections', new TableColumn({ name: 'last_used_at', type: 'bigint', isNullable: true }));
    await queryRunner.createIndex('pipedrive_connections', new TableIndex({ name: INDEX, columnNames: ['status', 'token_issued_at'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('pipedrive_connections', INDEX);
    await queryRunner.dropColumn('pipedrive_connections', 'last_used_at');
  }
}
