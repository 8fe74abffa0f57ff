import { describe, expect, it } from 'vitest';
import { apiVersion, toApiPath, toQueryString } from './api-path.js';

describe('toApiPath', () => {
  it('puts /api before the version, with or without a leading slash', () => {
    expect(toApiPath('/v2/deals')).toBe('/api/v2/deals');
    expect(toApiPath('v1/users/me')).toBe('/api/v1/users/me');
    expect(toApiPath('/api/v2/deals/1')).toBe('/api/v2/deals/1');
  });

  it('refuses a path without a version', () => {
    expect(() => toApiPath('/deals')).toThrow(/must start with \/v1\/ or \/v2\//);
  });

  it('tells the version', () => {
    expect(apiVersion('/api/v1/leads')).toBe('v1');
    expect(apiVersion('/api/v2/deals')).toBe('v2');
  });
});

describe('toQueryString', () => {
  it('encodes values, joins arrays with commas and skips null and undefined', () => {
    expect(toQueryString({ ids: [1, 2, 3], term: 'a&b c', done: false, cursor: undefined, owner_id: null })).toBe(
      '?ids=1%2C2%2C3&term=a%26b%20c&done=false',
    );
  });

  it('is empty without parameters', () => {
    expect(toQueryString(undefined)).toBe('');
    expect(toQueryString({ cursor: undefined })).toBe('');
  });
});
