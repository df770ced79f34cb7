import { useCallback, useEffect, useRef, useState } from 'react';
import type { AdminClient } from '../api/client';
import { useSession } from '../session';

export type Resource<T> =
  | { status: 'loading'; data?: undefined; error?: undefined; reload(): void }
  | {
      status: 'ready';
      data: T;
      error?: undefined;
      reload(): void;
      refreshedAt: Date;
    }
  | { status: 'error'; data?: T; error: Error; reload(): void };

/**
 * Loads something from the admin API and keeps it: `loading`, `ready` or `error` (with the last
 * good data, if any). `refreshMs` reloads on a timer; `deps` reload when they change.
 */
export function useResource<T>(
  load: (client: AdminClient) => Promise<T>,
  deps: unknown[],
  refreshMs?: number,
): Resource<T> {
  const { client } = useSession();
  const [state, setState] = useState<
    | { status: 'loading' }
    | { status: 'ready'; data: T; refreshedAt: Date }
    | { status: 'error'; data?: T; error: Error }
  >({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    let live = true;
    loadRef
      .current(client)
      .then((data) => {
        if (live) setState({ status: 'ready', data, refreshedAt: new Date() });
      })
      .catch((error: unknown) => {
        if (live)
          setState((previous) => ({
            status: 'error',
            error: error as Error,
            data: previous.status === 'loading' ? undefined : previous.data,
          }));
      });
    return () => {
      live = false;
    };
  }, [client, generation, ...deps]);

  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, reload]);

  return { ...state, reload } as Resource<T>;
}
