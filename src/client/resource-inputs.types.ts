import type { PipedriveCustomFields } from './resource.types.js';

/** Body of `POST /v2/deals`; PATCH takes any part of it. */
export interface PipedriveDealInput {
  title: string;
  owner_id?: number;
  person_id?: number | null;
  org_id?: number | null;
  pipeline_id?: number;
  stage_id?: number;
  value?: number;
  currency?: string;
  status?: 'open' | 'won' | 'lost';
  expected_close_date?: string | null;
  custom_fields?: PipedriveCustomFields;
}

/** Fields to create or update a person. */
export interface PipedrivePersonInput {
  name: string;
  owner_id?: number;
  org_id?: number | null;
  emails?: Array<{ value: string; primary?: boolean; label?: string }>;
  phones?: Array<{ value: string; primary?: boolean; label?: string }>;
  custom_fields?: PipedriveCustomFields;
}

/** Fields to create or update an organization. */
export interface PipedriveOrganizationInput {
  name: string;
  owner_id?: number;
  custom_fields?: PipedriveCustomFields;
}

/** Fields accepted when creating or updating a product. */
export interface PipedriveProductInput {
  name: string;
  code?: string | null;
  owner_id?: number;
  prices?: Array<{ price: number; currency: string; cost?: number; overhead_cost?: number }>;
  custom_fields?: PipedriveCustomFields;
}

/** Fields to create or update an activity. */
export interface PipedriveActivityInput {
  subject?: string;
  type?: string;
  owner_id?: number;
  deal_id?: number | null;
  lead_id?: string | null;
  person_id?: number | null;
  org_id?: number | null;
  due_date?: string | null;
  due_time?: string | null;
  done?: boolean;
}

/** Fields to create or update a pipeline. */
export interface PipedrivePipelineInput {
  name: string;
  is_deal_probability_enabled?: boolean;
}

/** Fields to create or update a stage. */
export interface PipedriveStageInput {
  name: string;
  pipeline_id: number;
  deal_probability?: number;
}

/** A lead needs a person or an organization. */
export interface PipedriveLeadInput {
  title: string;
  owner_id?: number;
  person_id?: number | null;
  organization_id?: number | null;
  value?: { amount: number; currency: string } | null;
  is_archived?: boolean;
}

/** A note needs one of deal_id, person_id, org_id or lead_id. */
export interface PipedriveNoteInput {
  content: string;
  deal_id?: number;
  person_id?: number;
  org_id?: number;
  lead_id?: string;
}
