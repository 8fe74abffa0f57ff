import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The connection's session epoch: a random value written by every successful authorization and signed
 * into the session cookie, so cookies issued before a re-authorization (or before a disconnect and a
 * new connection of the same user) no longer match. Null on rows written before this migration: no
 * cookie matches them, their users connect once more.
 */
export class AddSessionEpoch1767830400000 implements MigrationInterface {
  name = 'AddSessionEpoch1767830400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'pipedrive_connections',
      new TableColumn({ name: 'session_epoch', type: 'varchar', length: '43', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('pipedrive_connections', 'session_epoch');
  }
}
