import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './column-transformers.js';

/**
 * A company's daily token budget as the app's instances know it: what they spent on the UTC day
 * `day`, and until when Pipedrive refuses calls because the budget is spent. Shared through the
 * database when the app has no Redis.
 */
@Entity({ name: 'pipedrive_company_budgets' })
export class PipedriveCompanyBudgetEntity {
  @PrimaryColumn({ name: 'company_id', type: 'bigint', transformer: bigintNumber })
  companyId!: number;

  /** UTC day of `spent`, `YYYY-MM-DD`. */
  @Column({ type: 'varchar', length: 10 })
  day!: string;

  /** Tokens spent on `day` by every instance, by Pipedrive's cost table. */
  @Column({ type: 'integer', default: 0 })
  spent!: number;

  /** Epoch milliseconds until which the budget is exhausted; null when it is not. */
  @Column({ name: 'exhausted_until', type: 'bigint', nullable: true, transformer: bigintNumber })
  exhaustedUntil!: number | null;
}
