import { type FormEvent, useState } from 'react';
import type { Model } from '../api/types';
import { useSession } from '../session';
import { formatMicros, parseAmountToMicros } from './format';
import { useAction } from './use-action';

/** Prices of 1,000,000 tokens, typed as amounts and sent as exact micro-units. */
export function PriceEditor({
  model,
  onDone,
}: {
  model: Model;
  onDone(saved: boolean): void;
}) {
  const { client } = useSession();
  const [input, setInput] = useState(
    formatMicros(model.input_price_per_mtok_micros).replace(/,/g, ''),
  );
  const [output, setOutput] = useState(
    formatMicros(model.output_price_per_mtok_micros).replace(/,/g, ''),
  );
  const [invalid, setInvalid] = useState<string | null>(null);
  const action = useAction();
  const id = `prices-${model.id}`;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const inMicros = parseAmountToMicros(input, { allowZero: true });
    const outMicros = parseAmountToMicros(output, { allowZero: true });
    if (inMicros === null || outMicros === null) {
      setInvalid(
        'Prices are amounts with at most six decimals, e.g. 0.20 or 0.',
      );
      return;
    }
    setInvalid(null);
    const saved = await action.run(() =>
      client.request<Model>('PATCH', `/models/${model.id}`, {
        input_price_per_mtok_micros: inMicros.toString(),
        output_price_per_mtok_micros: outMicros.toString(),
      }),
    );
    if (saved) onDone(true);
  };

  return (
    <form
      className="inline"
      onSubmit={(e) => void save(e)}
      aria-label={`Prices of ${model.name}`}
      noValidate
    >
      <div className="field">
        <label htmlFor={`${id}-in`}>Input price per 1M tokens</label>
        <input
          id={`${id}-in`}
          inputMode="decimal"
          value={input}
          onChange={(e) => setInput(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-out`}>Output price per 1M tokens</label>
        <input
          id={`${id}-out`}
          inputMode="decimal"
          value={output}
          onChange={(e) => setOutput(e.target.value)}
        />
      </div>
      <button type="submit" disabled={action.busy}>
        Save prices
      </button>
      <button type="button" className="secondary" onClick={() => onDone(false)}>
        Cancel
      </button>
      <p className="hint">New prices apply to requests settled from now on.</p>
      {(invalid ?? action.error) && (
        <p className="error" role="alert">
          {invalid ?? action.error}
        </p>
      )}
    </form>
  );
}
