import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdminApiError } from '../api/client';
import { DataState } from './data-state';
import type { Resource } from './use-resource';

afterEach(cleanup);

const reload = vi.fn();
const list = (items: string[]) => (
  <ul>
    {items.map((i) => (
      <li key={i}>{i}</li>
    ))}
  </ul>
);

describe('DataState', () => {
  it('says what is loading, in words', () => {
    render(
      <DataState
        resource={{ status: 'loading', reload } as Resource<string[]>}
        what="tenants"
      >
        {list}
      </DataState>,
    );
    expect(screen.getByRole('status').textContent).toBe('Loading tenants…');
  });

  it('shows the empty state when there is nothing', () => {
    render(
      <DataState
        resource={{
          status: 'ready',
          data: [],
          reload,
          refreshedAt: new Date(),
        }}
        what="tenants"
        isEmpty={(d) => d.length === 0}
        empty="No tenants yet."
      >
        {list}
      </DataState>,
    );
    expect(screen.getByText('No tenants yet.')).toBeTruthy();
    expect(screen.queryByRole('list')).toBeNull();
  });

  it('names a missing scope instead of a bare 403, and offers to try again', () => {
    const error = new AdminApiError(
      403,
      'This admin token lacks the required scope (admin:read).',
      'insufficient_scope',
    );
    render(
      <DataState
        resource={{ status: 'error', error, reload }}
        what="the audit log"
      >
        {list}
      </DataState>,
    );
    expect(screen.getByRole('alert').textContent).toContain(
      'Could not load the audit log. Your admin token may not see this: This admin token lacks the required scope (admin:read).',
    );
    screen.getByRole('button', { name: 'Try again' }).click();
    expect(reload).toHaveBeenCalled();
  });

  it('keeps the last good data on screen when a refresh fails', () => {
    render(
      <DataState
        resource={{
          status: 'error',
          error: new AdminApiError(0, 'The gateway could not be reached.'),
          data: ['Studio A'],
          reload,
        }}
        what="tenants"
      >
        {list}
      </DataState>,
    );
    expect(screen.getByRole('alert').textContent).toContain(
      'The gateway could not be reached.',
    );
    expect(screen.getByText('Studio A')).toBeTruthy();
  });
});
