/** One line of what a fault test observed (counts, timings), printed with the test output. */
export function report(line: string): void {
  process.stdout.write(`[faults] ${line}\n`);
}
