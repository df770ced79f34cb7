import type { ReactNode } from 'react';
import { AdminApiError } from '../api/client';
import type { Scope } from '../api/types';
import { useSession } from '../session';
import type { Resource } from './use-resource';

/** Why a load failed, in words an admin can act on. */
export function describeError(error: Error): string {
  if (error instanceof AdminApiError) {
    if (error.missingScope)
      return `Your admin token may not see this: ${error.message}`;
    if (error.status === 401)
      return 'Your session has ended (401). Sign in again.';
    if (error.status === 0) return error.message;
    return `The gateway answered ${error.status}: ${error.message}`;
  }
  return error.message;
}

/**
 * Renders a resource's loading and error states in words, an empty state when `isEmpty` says so,
 * and `children` with the data otherwise. Data from before a failed refresh stays on screen,
 * with the error above it.
 */
export function DataState<T>({
  resource,
  what,
  isEmpty,
  empty,
  children,
}: {
  resource: Resource<T>;
  /** What is loading, for the messages: `tenants`, `usage`. */
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (resource.status === 'loading')
    return (
      <p className="state" role="status">
        Loading {what}…
      </p>
    );
  const data = resource.data;
  return (
    <>
      {resource.status === 'error' && (
        <div className="state error" role="alert">
          <p>
            Could not load {what}. {describeError(resource.error)}
          </p>
          <button type="button" onClick={resource.reload}>
            Try again
          </button>
        </div>
      )}
      {data !== undefined &&
        (isEmpty?.(data) ? (
          <p className="state empty">{empty ?? `No ${what} yet.`}</p>
        ) : (
          children(data)
        ))}
    </>
  );
}

const SCOPE_WORDS: Record<Scope, string> = {
  'admin:read': 'admin:read',
  'admin:write': 'admin:write',
  billing: 'billing',
};

/**
 * Shows `children` when the token holds one of `anyOf`; otherwise says which scope the part
 * needs, so a scoped admin sees why it is missing rather than an error.
 */
export function RequireScope({
  anyOf,
  what,
  children,
}: {
  anyOf: Scope[];
  what: string;
  children: ReactNode;
}) {
  const { can } = useSession();
  if (can(...anyOf)) return <>{children}</>;
  return (
    <p className="state scope-notice" role="note">
      {what} needs the {anyOf.map((s) => SCOPE_WORDS[s]).join(' or ')} scope,
      which your admin token does not have.
    </p>
  );
}
