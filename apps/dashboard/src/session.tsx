import {
  createContext,
  type FormEvent,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react';
import { type AdminClient, AdminApiError, adminClient } from './api/client';
import type { AdminSession, Scope } from './api/types';

/**
 * The admin token lives in this tab's sessionStorage (gone when the tab closes) and in memory;
 * never in a URL, a cookie or localStorage.
 */
const STORAGE_KEY = 'marquee.admin-token';

interface SessionValue {
  session: AdminSession;
  client: AdminClient;
  can(...anyOf: Scope[]): boolean;
  signOut(): void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside <SessionGate>');
  return value;
}

type GateState =
  | { status: 'checking' }
  | { status: 'signed-out'; error?: string }
  | { status: 'signed-in'; token: string; session: AdminSession };

async function check(token: string): Promise<AdminSession> {
  return adminClient(token).request<AdminSession>('GET', '/me');
}

function reason(error: unknown): string {
  if (error instanceof AdminApiError) {
    if (error.status === 401)
      return 'That token was not accepted (401): check it and try again.';
    if (error.status === 403)
      return `That is not an admin token (403): ${error.message}`;
    return error.message;
  }
  return (error as Error).message;
}

/** Shows the sign-in form until a token is accepted, then the dashboard. */
export function SessionGate({ children }: { children: ReactNode }) {
  const [state, setState] = useState<GateState>(() =>
    sessionStorage.getItem(STORAGE_KEY)
      ? { status: 'checking' }
      : { status: 'signed-out' },
  );

  useEffect(() => {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (!stored) return;
    check(stored)
      .then((session) =>
        setState({ status: 'signed-in', token: stored, session }),
      )
      .catch((error: unknown) => {
        sessionStorage.removeItem(STORAGE_KEY);
        setState({ status: 'signed-out', error: reason(error) });
      });
  }, []);

  const signIn = useCallback(async (token: string) => {
    setState({ status: 'checking' });
    try {
      const session = await check(token);
      sessionStorage.setItem(STORAGE_KEY, token);
      setState({ status: 'signed-in', token, session });
    } catch (error) {
      setState({ status: 'signed-out', error: reason(error) });
    }
  }, []);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setState({ status: 'signed-out' });
  }, []);

  const value = useMemo<SessionValue | null>(() => {
    if (state.status !== 'signed-in') return null;
    const scopes = new Set<Scope>(state.session.scopes);
    return {
      session: state.session,
      client: adminClient(state.token),
      can: (...anyOf) => anyOf.some((s) => scopes.has(s)),
      signOut,
    };
  }, [state, signOut]);

  if (state.status === 'checking')
    return (
      <main className="sign-in" aria-busy="true">
        <p role="status">Checking the admin token…</p>
      </main>
    );
  if (!value)
    return (
      <SignIn
        error={state.status === 'signed-out' ? state.error : undefined}
        onSubmit={(token) => void signIn(token)}
      />
    );
  return (
    <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
  );
}

export function SignIn({
  error,
  onSubmit,
}: {
  error?: string;
  onSubmit: (token: string) => void;
}) {
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) onSubmit(token.trim());
  };
  return (
    <main className="sign-in">
      <form
        className="card sign-in-card"
        onSubmit={submit}
        aria-labelledby="sign-in-title"
      >
        <h1 id="sign-in-title">Marquee admin</h1>
        <p>
          Sign in with an admin token: <code>MARQUEE_ADMIN_TOKEN</code> (printed
          by <code>npm start</code>) or a scoped <code>mqa_…</code> token.
        </p>
        <label htmlFor="admin-token">Admin token</label>
        <input
          id="admin-token"
          name="admin-token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
          autoFocus
        />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Sign in</button>
        <p className="hint">
          The token is kept in this tab only (session storage) and sent only in
          the Authorization header.
        </p>
      </form>
    </main>
  );
}
