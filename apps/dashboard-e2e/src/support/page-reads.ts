import type { Page } from 'playwright-core';

/** Polls `check` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Text of each cell of the first row of the table `tableTestId` that contains `text`. */
export async function rowCells(
  page: Page,
  tableTestId: string,
  text: string,
): Promise<string[] | undefined> {
  const row = page
    .getByTestId(tableTestId)
    .locator('tbody tr', { hasText: text });
  if ((await row.count()) === 0) return undefined;
  return (await row.first().locator('td').allInnerTexts()).map((t) => t.trim());
}
