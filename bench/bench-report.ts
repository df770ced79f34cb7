/** What every Marquee benchmark shares: percentiles, the machine it ran on, and its JSON file. */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

/** The `p`th percentile (nearest rank) of `values`, to 3 decimals. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(
    sorted[
      Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
    ].toFixed(3),
  );
}

export function summary(values: number[]) {
  return {
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    n: values.length,
  };
}

/** Starts a report: notes the machine and its load now, so `write` can record both ends. */
export function startReport(command: string) {
  const loadBefore = loadavg()[0];
  return {
    /** Writes `results/<file>` (or BENCH_OUT) with the command, machine and date, and prints `headline`. */
    write(
      file: string,
      body: Record<string, unknown>,
      headline: unknown,
    ): void {
      const out = {
        command,
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model,
          node: process.version,
          loadavg1Before: loadBefore,
          loadavg1After: loadavg()[0],
        },
        date: new Date().toISOString(),
        ...body,
      };
      writeFileSync(
        process.env.BENCH_OUT ?? join(__dirname, 'results', file),
        `${JSON.stringify(out, null, 2)}\n`,
      );
      console.log(JSON.stringify(headline));
    },
  };
}
