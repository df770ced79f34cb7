import type { ReactNode } from 'react';
import type { Scope } from '../api/types';
import { DataState, RequireScope } from './data-state';
import { formatClock } from './format';
import { useResource } from './use-resource';

/**
 * A page that shows one admin API read and refreshes it on its own: its title, when the data was
 * generated, and the data's loading, error and scope states.
 */
export function RefreshingPage<T extends { generated_at: string }>({
  id,
  title,
  path,
  refreshMs,
  anyOf,
  scopeWhat,
  what,
  children,
}: {
  /** The heading's id, which labels the section. */
  id: string;
  title: string;
  /** The admin API path read, e.g. `/queues`. */
  path: string;
  refreshMs: number;
  /** Scopes that may read it, and what the scope notice calls it. */
  anyOf: Scope[];
  scopeWhat: string;
  /** What is loading, for the data state's messages. */
  what: string;
  children: (data: T) => ReactNode;
}) {
  const resource = useResource(
    (client) => client.request<T>('GET', path),
    [path],
    refreshMs,
  );
  return (
    <section aria-labelledby={id}>
      <div className="toolbar">
        <h1 id={id} style={{ margin: 0 }}>
          {title}
        </h1>
        <p className="hint" aria-live="polite">
          {resource.status === 'ready'
            ? `Updated ${formatClock(resource.data.generated_at)}; refreshes every ${refreshMs / 1000} s.`
            : ''}
        </p>
      </div>
      <RequireScope anyOf={anyOf} what={scopeWhat}>
        <DataState resource={resource} what={what}>
          {children}
        </DataState>
      </RequireScope>
    </section>
  );
}
