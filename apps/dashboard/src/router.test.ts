import { describe, expect, it } from 'vitest';
import { parseRoute } from './router';

describe('parseRoute', () => {
  it('maps hashes to pages', () => {
    expect(parseRoute('')).toEqual({ page: 'overview' });
    expect(parseRoute('#/')).toEqual({ page: 'overview' });
    expect(parseRoute('#/usage')).toEqual({ page: 'usage' });
    expect(parseRoute('#/tenants/abc')).toEqual({ page: 'tenant', id: 'abc' });
  });

  it('names an unknown path instead of guessing', () => {
    expect(parseRoute('#/nowhere/else')).toEqual({
      page: 'not-found',
      path: '/nowhere/else',
    });
  });
});
