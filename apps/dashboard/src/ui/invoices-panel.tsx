import { type FormEvent, useState } from 'react';
import type { Invoice, ListOf } from '../api/types';
import { useSession } from '../session';
import { DataState } from './data-state';
import { download } from './download';
import { formatMicros, formatTime } from './format';
import { useAction } from './use-action';
import { useResource } from './use-resource';

const lastMonth = () => {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
};

/** A tenant's invoices by month: generate one for a closed month, download its CSV. */
export function InvoicesPanel({
  tenantId,
  label,
}: {
  tenantId: string;
  label?: string;
}) {
  const { client } = useSession();
  const invoices = useResource(
    (c) => c.request<ListOf<Invoice>>('GET', `/tenants/${tenantId}/invoices`),
    [tenantId],
  );
  const [month, setMonth] = useState(lastMonth);
  const action = useAction();

  const generate = async (event: FormEvent) => {
    event.preventDefault();
    if (
      await action.run(() =>
        client.request<Invoice>('POST', `/tenants/${tenantId}/invoices`, {
          month,
        }),
      )
    )
      invoices.reload();
  };
  const fetchCsv = async (invoice: Invoice) => {
    const blob = await action.run(() =>
      client.download(`/invoices/${invoice.id}/csv`),
    );
    if (blob)
      download(`invoice-${invoice.month}-${label ?? tenantId}.csv`, blob);
  };

  return (
    <>
      <form
        className="inline"
        onSubmit={(e) => void generate(e)}
        aria-label="Generate an invoice"
      >
        <div className="field">
          <label htmlFor={`invoice-month-${tenantId}`}>
            Month (closed months only)
          </label>
          <input
            id={`invoice-month-${tenantId}`}
            type="month"
            value={month}
            max={lastMonth()}
            onChange={(e) => setMonth(e.target.value)}
            required
          />
        </div>
        <button type="submit" disabled={action.busy}>
          Generate invoice
        </button>
      </form>
      {action.error && (
        <p className="error" role="alert">
          {action.error}
        </p>
      )}
      <DataState
        resource={invoices}
        what="invoices"
        isEmpty={(d) => d.data.length === 0}
        empty="No invoices yet: generate one for a closed month."
      >
        {(d) => (
          <div className="table-wrap">
            <table>
              <caption>Invoices, newest month first</caption>
              <thead>
                <tr>
                  <th scope="col">Month</th>
                  <th scope="col" className="num">
                    Total
                  </th>
                  <th scope="col">Generated</th>
                  <th scope="col">Download</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((i) => (
                  <tr key={i.id}>
                    <td>{i.month}</td>
                    <td className="num">{formatMicros(i.total_micros)}</td>
                    <td>{formatTime(i.created_at)}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => void fetchCsv(i)}
                      >
                        CSV for {i.month}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </DataState>
    </>
  );
}
