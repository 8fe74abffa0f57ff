import { CreatePipedriveTables1767225600000 } from './migrations/1767225600000-create-pipedrive-tables.js';
import { CreatePipedriveWebhookTables1767312000000 } from './migrations/1767312000000-create-pipedrive-webhook-tables.js';
import { CreatePipedriveCompanyBudgets1767398400000 } from './migrations/1767398400000-create-pipedrive-company-budgets.js';
import { PipedriveCompanyBudgetEntity } from './pipedrive-company-budget.entity.js';
import { AddSessionEpoch1767830400000 } from './migrations/1767830400000-add-session-epoch.js';
import { AddLastUsedAt1767916800000 } from './migrations/1767916800000-add-last-used-at.js';
import { AddWebhookReconcileLease1768003200000 } from './migrations/1768003200000-add-webhook-reconcile-lease.js';
import { PipedriveConnectionEntity } from './pipedrive-connection.entity.js';
import { PipedriveOAuthStateEntity } from './pipedrive-oauth-state.entity.js';
import { PipedriveWebhookEventEntity } from './pipedrive-webhook-event.entity.js';
import { PipedriveWebhookEntity } from './pipedrive-webhook.entity.js';

/** Entities the library reads and writes; register them with `TypeOrmModule.forFeature` (the module does). */
export const PIPEDRIVE_ENTITIES = [
  PipedriveConnectionEntity,
  PipedriveOAuthStateEntity,
  PipedriveWebhookEntity,
  PipedriveWebhookEventEntity,
  PipedriveCompanyBudgetEntity,
];

/** Migrations creating the library's tables; add them to your DataSource's `migrations` and run them. */
export const PIPEDRIVE_MIGRATIONS = [
  CreatePipedriveTables1767225600000,
  CreatePipedriveWebhookTables1767312000000,
  CreatePipedriveCompanyBudgets1767398400000,
  AddSessionEpoch1767830400000,
  AddLastUsedAt1767916800000,
  AddWebhookReconcileLease1768003200000,
];
