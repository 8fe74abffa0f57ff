import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Which instance is reconciling a connection's webhooks, and until when: taken with one conditional
 * UPDATE, so instances reconciling the same connection at once do not both create a missing webhook.
 */
export class AddWebhookReconcileLease1768003200000 implements MigrationInterface {
  name = 'AddWebhookReconcileLease1768003200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('pipedrive_connections', [
      new TableColumn({ name: 'webhooks_lease_owner', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'webhooks_lease_until', type: 'bigint', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('pipedrive_connections', 'webhooks_lease_until');
    await queryRunner.dropColumn('pipedrive_connections', 'webhooks_lease_owner');
  }
}
