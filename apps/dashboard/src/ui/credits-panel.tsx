import { type FormEvent, useState } from 'react';
import type { CreditTransaction, Credits } from '../api/types';
import { useSession } from '../session';
import { DataState, RequireScope } from './data-state';
import { formatMicros, formatTime, parseAmountToMicros } from './format';
import { useAction } from './use-action';
import { useResource } from './use-resource';

/** A tenant's balance, a top-up form and the latest credit transactions (billing scope). */
export function CreditsPanel({ tenantId }: { tenantId: string }) {
  return (
    <section aria-labelledby="credits-title">
      <h2 id="credits-title">Credits</h2>
      <RequireScope
        anyOf={['billing']}
        what="The balance, top-ups and the credit ledger"
      >
        <CreditsBody tenantId={tenantId} />
      </RequireScope>
    </section>
  );
}

function CreditsBody({ tenantId }: { tenantId: string }) {
  const { client } = useSession();
  const credits = useResource(
    (c) => c.request<Credits>('GET', `/tenants/${tenantId}/credits?limit=20`),
    [tenantId],
  );
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const action = useAction();

  const topUp = async (event: FormEvent) => {
    event.preventDefault();
    const micros = parseAmountToMicros(amount);
    if (micros === null) {
      setInvalid(
        'Enter a positive amount with at most six decimals, e.g. 25 or 0.50.',
      );
      return;
    }
    setInvalid(null);
    const done = await action.run(() =>
      client.request<CreditTransaction>(
        'POST',
        `/tenants/${tenantId}/credits`,
        {
          amount_micros: micros.toString(),
          ...(note.trim() ? { note: note.trim() } : {}),
        },
      ),
    );
    if (done) {
      setAmount('');
      setNote('');
      credits.reload();
    }
  };

  return (
    <>
      <form
        className="inline"
        onSubmit={(e) => void topUp(e)}
        aria-label="Top up credits"
        noValidate
      >
        <div className="field">
          <label htmlFor="topup-amount">Top-up amount</label>
          <input
            id="topup-amount"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            aria-invalid={invalid ? true : undefined}
            aria-describedby={invalid ? 'topup-invalid' : undefined}
            required
          />
        </div>
        <div className="field">
          <label htmlFor="topup-note">Note (optional)</label>
          <input
            id="topup-note"
            value={note}
            onChange={(e) => setNote(e.target.value)}
            maxLength={500}
          />
        </div>
        <button type="submit" disabled={action.busy}>
          Top up
        </button>
      </form>
      {invalid && (
        <p id="topup-invalid" className="error" role="alert">
          {invalid}
        </p>
      )}
      {action.error && (
        <p className="error" role="alert">
          {action.error}
        </p>
      )}
      <DataState resource={credits} what="credits">
        {(d) => (
          <>
            <p>
              Balance:{' '}
              <strong data-testid="balance">
                {formatMicros(d.balance_micros)}
              </strong>
            </p>
            {d.data.length === 0 ? (
              <p className="state empty">No credit transactions yet.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <caption>Latest credit transactions</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Kind</th>
                      <th scope="col" className="num">
                        Amount
                      </th>
                      <th scope="col">Note or request</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.data.map((t) => (
                      <tr key={t.id}>
                        <td>{formatTime(t.created_at)}</td>
                        <td>{t.kind}</td>
                        <td className="num">{formatMicros(t.amount_micros)}</td>
                        <td>
                          {t.note ??
                            (t.request_id ? <code>{t.request_id}</code> : '')}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </DataState>
    </>
  );
}
