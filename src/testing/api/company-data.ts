import { buildItem, type ResourceName } from './resource-definition.js';
import { RESOURCES } from './resources.js';
import { ResourceTable, type Item } from './resource-table.js';

/** Every company starts like a fresh Pipedrive account: one pipeline with its five stages. */
const DEFAULT_STAGES = ['Qualified', 'Contact Made', 'Demo Scheduled', 'Proposal Made', 'Negotiations Started'];
/** Fixed creation time of defaults and seeded items, so seeds are identical run to run. */
export const SEED_EPOCH = Date.UTC(2026, 0, 1);

/** Pipedrive data, partitioned by company: one company never sees another's items. */
export class CompanyData {
  private readonly companies = new Map<number, Map<ResourceName, ResourceTable>>();

  table(companyId: number, name: ResourceName): ResourceTable {
    let tables = this.companies.get(companyId);
    if (!tables) {
      tables = new Map(Object.keys(RESOURCES).map((key) => [key as ResourceName, new ResourceTable()]));
      this.companies.set(companyId, tables);
      this.createDefaults(companyId);
    }
    return tables.get(name)!;
  }

  /** Adds an item built from `input` with the next id; the caller has validated nothing yet. */
  build(companyId: number, userId: number, name: ResourceName, input: Record<string, unknown>, now: number): Item {
    const table = this.table(companyId, name);
    const id = RESOURCES[name].uuid ? leadUuid(companyId, table.nextSerial()) : table.nextSerial();
    return buildItem(RESOURCES[name], input, { id, companyId, userId, now });
  }

  private createDefaults(companyId: number): void {
    const pipeline = this.build(companyId, 1, 'pipelines', { name: 'Pipeline' }, SEED_EPOCH);
    this.table(companyId, 'pipelines').insert(pipeline);
    for (const name of DEFAULT_STAGES) {
      const stage = this.build(companyId, 1, 'stages', { name, pipeline_id: pipeline.id }, SEED_EPOCH);
      this.table(companyId, 'stages').insert(stage);
    }
  }
}

/** Deterministic, unique per company, shaped like a v4 UUID. */
function leadUuid(companyId: number, serial: number): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return `${hex(companyId, 8)}-0000-4000-8000-${hex(serial, 12)}`;
}
