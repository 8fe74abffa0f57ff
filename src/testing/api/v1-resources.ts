import { badIdField, isoMillis, requireText, v1Time, type ResourceDefinition } from './resource-definition.js';

export const leads: ResourceDefinition = {
  name: 'leads',
  version: 'v1',
  label: 'Lead',
  pagination: 'offset',
  updateMethod: 'PATCH',
  uuid: true,
  emptyListIsNull: false,
  filters: ['owner_id', 'person_id', 'organization_id'],
  time: isoMillis,
  defaults: ({ userId }) => ({
    title: undefined, owner_id: userId, person_id: null, organization_id: null, label_ids: [], value: null,
    expected_close_date: null, is_archived: false, was_seen: false, visible_to: '3', channel: null,
  }),
  system: ({ userId }) => ({ creator_id: userId, source_name: 'API', origin: 'API', next_activity_id: null, cc_email: null }),
  invalid: (r) =>
    requireText(r, 'title') ??
    badIdField(r) ??
    (r.person_id == null && r.organization_id == null ? 'A lead must be linked to a person or an organization' : undefined),
};

export const notes: ResourceDefinition = {
  name: 'notes',
  version: 'v1',
  label: 'Note',
  pagination: 'offset',
  updateMethod: 'PUT',
  uuid: false,
  // Legacy v1 list endpoints answer `data: null` rather than `[]` when nothing matches.
  emptyListIsNull: true,
  filters: ['user_id', 'deal_id', 'person_id', 'org_id', 'lead_id'],
  time: v1Time,
  defaults: ({ userId }) => ({
    content: undefined, user_id: userId, deal_id: null, person_id: null, org_id: null, lead_id: null,
    pinned_to_deal_flag: false, pinned_to_person_flag: false, pinned_to_organization_flag: false, pinned_to_lead_flag: false,
  }),
  system: () => ({ active_flag: true }),
  invalid: (r) =>
    requireText(r, 'content') ??
    badIdField({ ...r, lead_id: null }) ??
    (r.deal_id == null && r.person_id == null && r.org_id == null && r.lead_id == null
      ? 'A note must be attached to a deal, person, organization or lead'
      : undefined),
};
