import type { ValueTransformer } from 'typeorm';

/**
 * `bigint` columns hold epoch milliseconds and Pipedrive ids. PostgreSQL hands bigints back as strings
 * (they may exceed 2^53); ours never do, so they become numbers on both drivers.
 */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};

/** Pipedrive sends scopes comma-separated; they are stored that way and exposed as a list. */
export const commaSeparated: ValueTransformer = {
  to: (value: string[] | undefined) => (Array.isArray(value) ? value.join(',') : value),
  from: (value: string | null) => splitScopes(value ?? ''),
};

export function splitScopes(scope: string): string[] {
  return scope
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
