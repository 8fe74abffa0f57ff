import type { PipedriveEmulatorSeed, PipedriveEmulatorSeedResult } from '../emulator.types.js';
import { SEED_EPOCH, type CompanyData } from './company-data.js';
import type { ResourceName } from './resource-definition.js';
import type { Item, ItemId } from './resource-table.js';

const FIRST = ['Alice', 'Bruno', 'Carla', 'Dmitri', 'Eve', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas'];
const LAST = ['Adams', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hansen', 'Ito', 'Jensen'];
const STATUSES = ['open', 'open', 'open', 'won', 'lost'];
/** Linked resources are created first so new items can point at them. */
const ORDER: ResourceName[] = ['pipelines', 'stages', 'organizations', 'persons', 'deals', 'leads', 'activities', 'notes', 'products'];

type Linker = (name: ResourceName, n: number) => Item | undefined;
type SeedInput = (n: number, link: Linker) => Record<string, unknown>;

/** Field values of the n-th seeded item (1-based, counted over the whole company). */
const INPUTS: Record<ResourceName, SeedInput> = {
  pipelines: (n) => ({ name: `Pipeline ${n}` }),
  stages: (n, link) => ({ name: `Stage ${n}`, pipeline_id: link('pipelines', n)!.id }),
  organizations: (n) => ({ name: `Organization ${n}`, address: { value: `${n} Main Street, Tallinn` } }),
  persons: (n, link) => {
    const [first, last] = [FIRST[n % 10]!, LAST[Math.floor(n / 10) % 10]!];
    const email = `${first}.${last}${n}@example.com`.toLowerCase();
    const emails = [{ value: email, primary: true, label: 'work' }];
    return { name: `${first} ${last}`, first_name: first, last_name: last, org_id: id(link('organizations', n)), emails };
  },
  deals: (n, link) => {
    const stage = link('stages', n)!;
    const links = { stage_id: stage.id, pipeline_id: stage.pipeline_id, ...people(n, link) };
    return { title: `Deal ${n}`, value: (n * 1250) % 50_000, status: STATUSES[n % 5], ...links };
  },
  // A lead or note must be linked to something; `seedCompany` makes sure an organization exists.
  leads: (n, link) => {
    const { person_id, org_id } = people(n, link);
    return { title: `Lead ${n}`, person_id, organization_id: org_id, value: { amount: n * 100, currency: 'EUR' } };
  },
  activities: (n, link) => {
    const deal_id = id(link('deals', n));
    return { subject: `Call ${n}`, type: 'call', deal_id, ...people(n, link), done: n % 3 === 0, due_date: day(n) };
  },
  products: (n) => ({ name: `Product ${n}`, code: `P-${n}`, prices: [{ price: n * 10, currency: 'EUR', cost: 0, overhead_cost: 0 }] }),
  notes: (n, link) => ({ content: `<p>Note ${n}</p>`, deal_id: id(link('deals', n)), ...people(n, link) }),
};

/** Adds `counts` items per resource to a company; the same calls on a fresh company give the same data. */
export function seedCompany(data: CompanyData, companyId: number, counts: PipedriveEmulatorSeed): PipedriveEmulatorSeedResult {
  const userId = 1;
  const result = Object.fromEntries(ORDER.map((name) => [name, []])) as unknown as PipedriveEmulatorSeedResult;
  const link: Linker = (name, n) => {
    const table = data.table(companyId, name);
    return table.size === 0 ? undefined : table.at((n - 1) % table.size);
  };
  const needsAnchor = (counts.leads ?? 0) + (counts.notes ?? 0) > 0;
  const anchors = ['organizations', 'persons'] as const;
  const anchorCount = anchors.reduce((sum, name) => sum + data.table(companyId, name).size + (counts[name] ?? 0), 0);
  if (needsAnchor && anchorCount === 0) counts = { ...counts, organizations: 1 };
  for (const name of ORDER) {
    const table = data.table(companyId, name);
    for (let i = 0; i < (counts[name] ?? 0); i++) {
      const n = table.size + 1;
      const item = data.build(companyId, userId, name, INPUTS[name](n, link), SEED_EPOCH + n * 60_000);
      result[name].push(table.insert(item).id);
    }
  }
  return result;
}

function people(n: number, link: Linker): { person_id: ItemId | null; org_id: ItemId | null } {
  return { person_id: id(link('persons', n)), org_id: id(link('organizations', n)) };
}

function id(item: Item | undefined): ItemId | null {
  return item?.id ?? null;
}

function day(n: number): string {
  return new Date(SEED_EPOCH + n * 86_400_000).toISOString().slice(0, 10);
}
