import { useCallback, useState } from 'react';
import { describeError } from './data-state';

/**
 * Runs an admin write and tracks it: `busy` while it runs, the error in words if it failed.
 * The caller reloads what changed in `onDone`.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async <T>(action: () => Promise<T>): Promise<T | undefined> => {
      setBusy(true);
      setError(null);
      try {
        return await action();
      } catch (e) {
        setError(describeError(e as Error));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [],
  );
  return { busy, error, run, clearError: () => setError(null) };
}
