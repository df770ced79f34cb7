import { type FormEvent, useRef, useState } from 'react';
import type {
  ApiKey,
  ApiKeyWithSecret,
  KeyActivity,
  ListOf,
} from '../api/types';
import { useSession } from '../session';
import { DataState, RequireScope } from './data-state';
import { formatAgo, formatTime } from './format';
import { useAction } from './use-action';
import { useResource } from './use-resource';

/** A new or rotated key's secret: shown this once, with a copy button. */
function SecretOnce({
  created,
  onDismiss,
}: {
  created: ApiKeyWithSecret;
  onDismiss(): void;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied to the clipboard.');
    } catch {
      // No clipboard permission (plain http, an old browser): select it for Ctrl+C.
      input.current?.select();
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <div className="notice" role="region" aria-labelledby="secret-title">
      <h3 id="secret-title" style={{ marginTop: 0 }}>
        Secret of “{created.name}” ({created.prefix}…)
      </h3>
      <p>
        Copy it now: it is shown this once and cannot be shown again (only its
        hash is stored).
      </p>
      <div className="secret-row">
        <label htmlFor="new-secret" className="visually-hidden">
          New key secret
        </label>
        <input
          id="new-secret"
          ref={input}
          readOnly
          value={created.key}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" onClick={() => void copy()}>
          Copy secret
        </button>
        <button type="button" className="secondary" onClick={onDismiss}>
          I have stored it
        </button>
      </div>
      <p className="hint" aria-live="polite">
        {copied}
      </p>
    </div>
  );
}

/** The later of the key's own last-used time and its latest billed request. */
function lastUsed(k: ApiKey, activity?: KeyActivity): string | null {
  const times = [k.last_used_at, activity?.last_request_at].filter(
    (t): t is string => !!t,
  );
  return times.sort().at(-1) ?? null;
}

function KeyRow({
  k,
  activity,
  canWrite,
  onRevoke,
  onRotate,
}: {
  k: ApiKey;
  activity?: KeyActivity;
  canWrite: boolean;
  onRevoke(k: ApiKey): void;
  onRotate(k: ApiKey): void;
}) {
  const [confirming, setConfirming] = useState(false);
  return (
    <tr>
      <td>{k.name}</td>
      <td>
        <code>{k.prefix}…</code>
      </td>
      <td>
        {k.revoked ? (
          <span className="badge bad">revoked {formatTime(k.revoked_at)}</span>
        ) : k.expires_at && Date.parse(k.expires_at) < Date.now() ? (
          <span className="badge muted">expired</span>
        ) : (
          <span className="badge ok">active</span>
        )}
      </td>
      <td title={lastUsed(k, activity) ?? undefined}>
        {formatAgo(lastUsed(k, activity))}
      </td>
      <td className="num">{activity?.requests ?? 0}</td>
      <td>{formatTime(k.created_at)}</td>
      <td>
        {canWrite && !k.revoked && (
          <div className="actions">
            {confirming ? (
              <>
                <button
                  type="button"
                  className="danger"
                  onClick={() => onRevoke(k)}
                  aria-label={`Confirm revoke ${k.name}`}
                >
                  Confirm revoke
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => setConfirming(false)}
                >
                  Cancel
                </button>
              </>
            ) : (
              <>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => setConfirming(true)}
                  aria-label={`Revoke ${k.name}`}
                >
                  Revoke
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => onRotate(k)}
                  aria-label={`Rotate ${k.name}`}
                >
                  Rotate
                </button>
              </>
            )}
          </div>
        )}
      </td>
    </tr>
  );
}

/** A tenant's keys: list with last use, create (secret once), revoke, rotate. */
export function KeysPanel({
  tenantId,
  title = 'Keys',
}: {
  tenantId: string;
  /** The section heading (the Keys page names the tenant). */
  title?: string;
}) {
  const { client, can } = useSession();
  const keys = useResource(
    (c) => c.request<ListOf<ApiKey>>('GET', `/tenants/${tenantId}/keys`),
    [tenantId],
  );
  const activity = useResource(
    (c) =>
      c.request<ListOf<KeyActivity>>(
        'GET',
        `/tenants/${tenantId}/key-activity`,
      ),
    [tenantId],
  );
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<ApiKeyWithSecret | null>(null);
  const action = useAction();
  const canWrite = can('admin:write');

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const created = await action.run(() =>
      client.request<ApiKeyWithSecret>('POST', `/tenants/${tenantId}/keys`, {
        name: name.trim(),
      }),
    );
    if (created) {
      setSecret(created);
      setName('');
      keys.reload();
    }
  };
  const revoke = async (k: ApiKey) => {
    await action.run(() => client.request<ApiKey>('DELETE', `/keys/${k.id}`));
    keys.reload();
    activity.reload();
  };
  const rotate = async (k: ApiKey) => {
    const rotated = await action.run(() =>
      client.request<ApiKeyWithSecret>('POST', `/keys/${k.id}/rotate`, {}),
    );
    if (rotated) setSecret(rotated);
    keys.reload();
  };

  return (
    <section aria-labelledby={`keys-${tenantId}`}>
      <h2 id={`keys-${tenantId}`}>{title}</h2>
      <RequireScope
        anyOf={['admin:write']}
        what="Creating, revoking and rotating keys"
      >
        <form className="inline" onSubmit={(e) => void create(e)}>
          <div className="field">
            <label htmlFor="key-name">New key name</label>
            <input
              id="key-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={200}
            />
          </div>
          <button type="submit" disabled={action.busy}>
            Create key
          </button>
        </form>
      </RequireScope>
      {action.error && (
        <p className="error" role="alert">
          {action.error}
        </p>
      )}
      {secret && (
        <SecretOnce created={secret} onDismiss={() => setSecret(null)} />
      )}
      <DataState
        resource={keys}
        what="keys"
        isEmpty={(d) => d.data.length === 0}
        empty="This tenant has no keys yet."
      >
        {(d) => (
          <div className="table-wrap">
            <table>
              <caption>Keys (prefixes only; secrets are never stored)</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last used</th>
                  <th scope="col" className="num">
                    Requests
                  </th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((k) => (
                  <KeyRow
                    key={k.id}
                    k={k}
                    activity={activity.data?.data.find(
                      (a) => a.api_key_id === k.id,
                    )}
                    canWrite={canWrite}
                    onRevoke={(x) => void revoke(x)}
                    onRotate={(x) => void rotate(x)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </DataState>
    </section>
  );
}
