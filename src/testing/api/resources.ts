import type { ResourceDefinition, ResourceName } from './resource-definition.js';
import { leads, notes } from './v1-resources.js';
import { activities, deals, organizations, persons, pipelines, products, stages } from './v2-resources.js';

/** Every emulated resource by name. */
export const RESOURCES: Record<ResourceName, ResourceDefinition> = {
  deals,
  persons,
  organizations,
  activities,
  products,
  pipelines,
  stages,
  leads,
  notes,
};

/** Routable resources keyed `v2/deals`, `v1/leads`... */
export const RESOURCES_BY_PATH = new Map(Object.values(RESOURCES).map((def) => [`${def.version}/${def.name}`, def]));

/** v1 paths that v2 replaced; out of support since 2026-08-01. */
export const RETIRED_V1 = new Set<string>(Object.values(RESOURCES).filter((def) => def.version === 'v2').map((def) => def.name));
