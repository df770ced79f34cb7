import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@marquee/shared/util-setup';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Screenshots of every page, kept as test artifacts (gitignored). */
export const SCREENSHOT_DIR = join(
  ROOT,
  'apps',
  'dashboard-e2e',
  'screenshots',
);

/** Debian's Chromium (`apt-get install chromium`); Playwright's own download is unreachable here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
    ],
  });
}

/** Saves a full-page screenshot as `<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
