import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

const BUDGETS = 'pipedrive_company_budgets';

/** The per-company daily budget (spent tokens, exhaustion); Table API only, for SQLite and PostgreSQL. */
export class CreatePipedriveCompanyBudgets1767398400000 implements MigrationInterface {
  // Explicit: bundlers may rename the class, and TypeORM records migrations by name.
  name = 'CreatePipedriveCompanyBudgets1767398400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: BUDGETS,
        columns: [
          { name: 'company_id', type: 'bigint', isPrimary: true },
          { name: 'day', type: 'varchar', length: '10' },
          { name: 'spent', type: 'integer', default: 0 },
          { name: 'exhausted_until', type: 'bigint', isNullable: true },
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(BUDGETS, true);
  }
}
