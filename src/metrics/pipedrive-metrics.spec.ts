import { describe, expect, it } from 'vitest';
import { pathTemplate } from './pipedrive-metrics.js';

describe('pathTemplate', () => {
  it.each([
    ['/api/v2/deals', '/api/v2/deals'],
    ['/api/v2/deals/12', '/api/v2/deals/:id'],
    ['/api/v2/deals/12/products', '/api/v2/deals/:id/products'],
    ['/api/v1/leads/00000001-0000-4000-8000-000000000002', '/api/v1/leads/:id'],
    ['/api/v2/dealFields/' + 'a'.repeat(40), '/api/v2/dealFields/:id'],
    ['/api/v1/users/me', '/api/v1/users/me'],
    ['/api/v1/persons/find/ada@example.com', '/api/v1/persons/find/:id'],
  ])('%s -> %s', (path, template) => {
    expect(pathTemplate(path)).toBe(template);
  });
});
