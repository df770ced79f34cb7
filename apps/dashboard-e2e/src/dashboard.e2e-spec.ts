import { readFile } from 'node:fs/promises';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
// The stack marquee-e2e's global setup started (this project's jest config reuses it); its
// specs and these read it through the one contract it publishes.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { e2eStack } from '../../marquee-e2e/src/support/stack';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { admin, openai } from '../../marquee-e2e/src/support/clients';
import { launchChromium, screenshot } from './support/browser';
import { rowCells, until } from './support/page-reads';

const stack = e2eStack();
const DASHBOARD = `${stack.origin}/dashboard`;
const TENANT = `Studio Dashboard ${process.pid}`;
const KEY_NAME = 'render farm';

const count = (n: number) => n.toLocaleString('en-US');

/** The admin API with the bootstrap token, for fixtures the dashboard does not create. */
async function adminApi<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: object,
): Promise<T> {
  const response = await admin(method, path, body);
  if (!response.ok)
    throw new Error(
      `${method} ${path}: ${response.status} ${await response.text()}`,
    );
  return (await response.json()) as T;
}

// Each step waits for what the page shows; a step that cannot see it fails with Playwright's
// message (15 s) well before the test's own limit.
jest.setTimeout(60_000);
const STEP_TIMEOUT_MS = 15_000;

describe('admin dashboard in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requestedUrls: string[] = [];
  const pageErrors: string[] = [];
  const f = {} as {
    tenantId: string;
    secret: string;
    rotated: string;
    probe: string;
    prompt: number;
    completion: number;
    requests: number;
  };

  beforeAll(async () => {
    // The dashboard was built with the apps, in the e2e global setup.
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1366, height: 900 },
      // The copy button writes the new key's secret to the clipboard; the test reads it back.
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    page = await context.newPage();
    page.on('request', (r) => requestedUrls.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      // Chromium logs every non-2xx fetch as "Failed to load resource"; the app's own errors are the point.
      if (
        m.type() === 'error' &&
        !m.text().startsWith('Failed to load resource')
      )
        pageErrors.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('refuses a wrong token, then signs in with the admin token typed into a password field', async () => {
    const response = await page.goto(DASHBOARD);
    // The printed URL redirects to /dashboard/, served with a policy that runs only its own scripts.
    expect(page.url()).toBe(`${DASHBOARD}/`);
    expect(response?.headers()['content-security-policy']).toContain(
      "script-src 'self'",
    );
    const field = page.getByLabel('Admin token');
    expect(await field.getAttribute('type')).toBe('password');
    await screenshot(page, '01-sign-in');

    // Keyboard only: the field has focus on load; Enter submits.
    await page.keyboard.type('mqa_not-a-real-token');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: '401' }).waitFor();

    await field.fill(stack.adminToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByText('bootstrap token').isVisible()).toBe(true);
    expect(page.url()).not.toContain(stack.adminToken);
  });

  it('creates a tenant, and tops it up', async () => {
    await page.getByRole('link', { name: 'Tenants' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await page.getByLabel('New tenant name').fill(TENANT);
    await page.getByLabel('New tenant name').press('Enter');
    await page.getByRole('heading', { name: TENANT }).waitFor();
    f.tenantId = decodeURIComponent(page.url().split('#/tenants/')[1] ?? '');
    expect(f.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.getByTestId('tenant-status').innerText()).toBe('active');

    await page.getByLabel('Top-up amount').fill('25.5');
    await page.getByLabel('Note (optional)').fill('first credit');
    await page.getByRole('button', { name: 'Top up' }).click();
    await until('the new balance', async () =>
      (await page.getByTestId('balance').innerText()) === '25.50'
        ? true
        : undefined,
    );
    expect(
      await page.getByRole('cell', { name: 'first credit' }).isVisible(),
    ).toBe(true);
  });

  it('creates a key and shows its secret once, with a copy button', async () => {
    await page.getByLabel('New key name').fill(KEY_NAME);
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretField = page.getByLabel('New key secret');
    await secretField.waitFor();
    f.secret = await secretField.inputValue();
    expect(f.secret).toMatch(/^mq_/);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(
      f.secret,
    );
    const row = page.locator('tbody tr', { hasText: KEY_NAME });
    await row.waitFor();
    expect(await row.innerText()).toContain(f.secret.slice(0, 11));
    expect(await row.innerText()).not.toContain(f.secret);
    expect(await row.innerText()).toContain('never');
    await screenshot(page, '03-tenant-new-key');

    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await secretField.count()).toBe(0);
    // Nowhere else on the page any more.
    expect(await page.content()).not.toContain(f.secret);
  });

  it('makes completions with the new key through the openai client, and sees them in the usage chart and table', async () => {
    const client = openai(f.secret);
    f.prompt = 0;
    f.completion = 0;
    const calls = [
      client.completions.create({
        model: stack.model,
        prompt: 'A heist film set in',
        max_tokens: 6,
        temperature: 0,
      }),
      client.completions.create({
        model: stack.model,
        prompt: 'Pitch a thriller about',
        max_tokens: 9,
        temperature: 0,
      }),
      client.chat.completions.create({
        model: stack.model,
        messages: [{ role: 'user', content: 'Name a monster movie' }],
        max_tokens: 4,
        temperature: 0,
      }),
    ];
    for (const call of calls) {
      const usage = (await call).usage;
      if (!usage) throw new Error('a completion came back without usage');
      f.prompt += usage.prompt_tokens;
      f.completion += usage.completion_tokens;
    }
    f.requests = calls.length;
    expect(f.completion).toBe(6 + 9 + 4);

    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage' }).waitFor();
    // Usage is billed as each request settles (a moment after the response): refresh until it is.
    const cells = await until('the new tenant in the usage table', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      const found = await rowCells(page, 'usage-table', TENANT);
      return found?.[3] === String(f.requests) ? found : undefined;
    });
    const today = new Date().toISOString().slice(0, 10);
    expect(cells.slice(0, 6)).toEqual([
      today,
      TENANT,
      stack.model,
      String(f.requests),
      count(f.prompt),
      count(f.completion),
    ]);

    // The chart by tenant has a bar for the tenant today, of its tokens (ECharts' aria summary
    // of the data is the accessible name of the chart).
    const chart = page
      .getByRole('figure')
      .filter({ hasText: 'Tokens per day by tenant' })
      .getByRole('img');
    const description = await until('the chart summary', async () => {
      const label = await chart.getAttribute('aria-label');
      return label?.includes(TENANT) ? label : undefined;
    });
    expect(description).toContain(`${TENANT}`);
    expect(description).toMatch(
      // Stacked bars read as "<index>, <value>, <stacked total>, ...".
      new RegExp(`the data for ${today} is \\d+, ${f.prompt + f.completion},`),
    );
    await screenshot(page, '05-usage');

    // The CSV export holds the same row: exact sums, micro-units.
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const exported = await readFile(await csv.path(), 'utf8');
    expect(exported).toContain(
      `${today},${f.tenantId},${TENANT},${stack.model},${f.requests},${f.prompt},${f.completion},`,
    );
  });

  it('suspends the tenant (its key gets 401 from the openai client) and reactivates it', async () => {
    const client = openai(f.secret);
    await page.goto(`${DASHBOARD}/#/tenants/${f.tenantId}`);
    await page.getByRole('button', { name: 'Suspend tenant' }).click();
    await until('the suspended badge', async () =>
      (await page.getByTestId('tenant-status').innerText()) === 'suspended'
        ? true
        : undefined,
    );
    // Listing models bills nothing, so the usage counts above stay exact.
    await expect(client.models.list()).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
    await page.getByRole('button', { name: 'Reactivate tenant' }).click();
    await until('the active badge', async () =>
      (await page.getByTestId('tenant-status').innerText()) === 'active'
        ? true
        : undefined,
    );
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(stack.model);
  });

  it('rotates the key (a new secret, shown once), then revokes it: the openai client gets 401 invalid_api_key', async () => {
    await page.goto(`${DASHBOARD}/#/keys`);
    await page.getByRole('heading', { name: 'Keys', exact: true }).waitFor();
    await page.getByLabel('Tenant').selectOption({ label: TENANT });

    await page.getByRole('button', { name: `Rotate ${KEY_NAME}` }).click();
    const rotated = await page.getByLabel('New key secret').inputValue();
    expect(rotated).toMatch(/^mq_/);
    expect(rotated).not.toBe(f.secret);
    f.rotated = rotated;
    await page.getByRole('button', { name: 'I have stored it' }).click();

    await page.getByRole('button', { name: `Revoke ${KEY_NAME}` }).click();
    await page
      .getByRole('button', { name: `Confirm revoke ${KEY_NAME}` })
      .click();
    const row = page.locator('tbody tr', { hasText: KEY_NAME });
    await until('the revoked badge', async () =>
      (await row.innerText()).includes('revoked') ? true : undefined,
    );
    // Last used and the request count come from the completions above (the usage ledger).
    const cells = (await row.locator('td').allInnerTexts()).map((t) =>
      t.trim(),
    );
    expect(cells[3]).toMatch(/^\d+ (s|min) ago$/);
    expect(cells[4]).toBe(String(f.requests));
    await screenshot(page, '04-keys');

    const client = openai(f.secret);
    const error = await client.completions
      .create({ model: stack.model, prompt: 'Still there?', max_tokens: 2 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
    // Revoking ends the rotated secret too, and the replaced one's grace period.
    const rotatedClient = openai(f.rotated);
    await expect(
      rotatedClient.completions.create({
        model: stack.model,
        prompt: 'x',
        max_tokens: 1,
      }),
    ).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('shows every other page with its data, and a screenshot of each', async () => {
    await page.goto(`${DASHBOARD}/#/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const top = page.getByRole('table', {
      name: 'Top tenants by spend this month',
    });
    await until('the tenant among the top tenants', async () =>
      (await top.innerText()).includes(TENANT) ? true : undefined,
    );
    expect(await page.getByText('Workers live').isVisible()).toBe(true);
    await screenshot(page, '02-overview');

    await page.goto(`${DASHBOARD}/#/tenants`);
    await page.getByLabel('Search tenants').fill('Studio Dashboard');
    await page.getByRole('link', { name: TENANT }).waitFor();
    await screenshot(page, '06-tenants');

    await page.goto(`${DASHBOARD}/#/models`);
    const modelRow = page.locator('tbody tr', { hasText: stack.model }).first();
    await modelRow.waitFor();
    await until('the worker serving the model', async () =>
      (await modelRow.innerText()).includes('1 worker') ? true : undefined,
    );
    await screenshot(page, '07-models');

    await page.goto(`${DASHBOARD}/#/queues`);
    const workers = page.getByRole('table', { name: /Live workers/ });
    await workers.waitFor();
    // The worker's batch and memory as of its last heartbeat.
    await until('the worker reporting its load', async () =>
      /\d+ \/ \d+/.test(await workers.innerText()) &&
      /\d+ MiB resident/.test(await workers.innerText())
        ? true
        : undefined,
    );
    expect(
      await page
        .getByRole('table', { name: /Jobs per model and tenant/ })
        .innerText(),
    ).toContain(TENANT);
    await screenshot(page, '08-queues-workers');

    await page.goto(`${DASHBOARD}/#/invoices`);
    await page.getByLabel('Tenant').selectOption({ label: TENANT });
    await page.getByRole('button', { name: 'Generate invoice' }).click();
    await page.getByRole('button', { name: /^CSV for / }).waitFor();
    await screenshot(page, '09-invoices');
    const [invoiceCsv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /^CSV for / }).click(),
    ]);
    expect(invoiceCsv.suggestedFilename()).toMatch(
      /^invoice-\d{4}-\d{2}-.+\.csv$/,
    );
    expect(await readFile(await invoiceCsv.path(), 'utf8')).toMatch(/^month,/);

    await page.goto(`${DASHBOARD}/#/audit`);
    const audit = page.getByRole('table', { name: /admin writes/ });
    await audit.waitFor();
    const text = await audit.innerText();
    for (const action of [
      'tenant.create',
      'credit.topup',
      'api_key.create',
      'api_key.revoke',
    ])
      expect(text).toContain(action);
    await screenshot(page, '10-audit-log');

    await page.goto(`${DASHBOARD}/#/tenants/${f.tenantId}`);
    await page.getByRole('heading', { name: TENANT }).waitFor();
    await page.getByTestId('usage-table').waitFor();
    await screenshot(page, '11-tenant');
  });

  it('refreshes the overview on its own: a new request shows up without reloading the page', async () => {
    await page.goto(`${DASHBOARD}/#/`);
    const top = page.getByRole('table', {
      name: 'Top tenants by spend this month',
    });
    const requestsOfTenant = async () =>
      (
        await top
          .locator('tbody tr', { hasText: TENANT })
          .locator('td')
          .allInnerTexts()
      )[1];
    await until('the tenant among the top tenants', async () =>
      (await requestsOfTenant()) === String(f.requests) ? true : undefined,
    );
    // Marks this document: a reload would lose the mark.
    await page.evaluate('window.__notReloaded = true');

    const key = await adminApi<{ key: string }>(
      'POST',
      `/tenants/${f.tenantId}/keys`,
      {
        name: 'overview probe',
      },
    );
    f.probe = key.key;
    const usage = (
      await openai(key.key).completions.create({
        model: stack.model,
        prompt: 'One more',
        max_tokens: 3,
        temperature: 0,
      })
    ).usage;
    f.requests += 1;
    f.prompt += usage?.prompt_tokens ?? 0;
    f.completion += usage?.completion_tokens ?? 0;

    // Settlement, then the next 10 s refresh.
    await until(
      'the overview to show the new request',
      async () =>
        (await requestsOfTenant()) === String(f.requests) ? true : undefined,
      25_000,
    );
    expect(await page.evaluate<boolean>('window.__notReloaded === true')).toBe(
      true,
    );
  });

  it('reprices a model from the Models page, in exact micro-units', async () => {
    // A model of this tenant's own, so no other suite sees its prices change.
    const model = await adminApi<{ id: string; name: string }>(
      'POST',
      '/models',
      {
        name: `dash-priced-${process.pid}`,
        artifact_path: '/nowhere',
        context_length: 64,
        tenant_id: f.tenantId,
        input_price_per_mtok_micros: 200_000,
        output_price_per_mtok_micros: 600_000,
      },
    );
    await page.goto(`${DASHBOARD}/#/models`);
    await page
      .getByRole('button', { name: `Edit prices of ${model.name}` })
      .click();
    await page.getByLabel('Input price per 1M tokens').fill('0.35');
    await page.getByLabel('Output price per 1M tokens').fill('1.2');
    await screenshot(page, '07b-models-edit-prices');
    await page.getByRole('button', { name: 'Save prices' }).click();
    const row = page.locator('tbody tr', { hasText: model.name });
    await until('the new prices in the table', async () =>
      (await row.innerText()).includes('1.20') ? true : undefined,
    );
    expect(await row.innerText()).toContain('0.35');
    expect(await adminApi('GET', `/models/${model.id}`)).toMatchObject({
      input_price_per_mtok_micros: '350000',
      output_price_per_mtok_micros: '1200000',
    });
  });

  it('fits a phone screen: the page list becomes a scrollable bar above the content', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    phone.setDefaultTimeout(STEP_TIMEOUT_MS);
    try {
      const p = await phone.newPage();
      await p.goto(DASHBOARD);
      await p.getByLabel('Admin token').fill(stack.adminToken);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('Requests this minute').waitFor();
      await p.getByRole('img').first().waitFor();
      await screenshot(p, '12-overview-phone');
      // A string: this file is typed for Node, the expression runs in the page.
      const width = await p.evaluate<number>(
        'document.documentElement.scrollWidth',
      );
      expect(width).toBeLessThanOrEqual(390);
    } finally {
      await phone.close();
    }
  });

  it('tells a billing-only admin token which pages it may not see, and shows it usage', async () => {
    const { token } = await adminApi<{ token: string }>(
      'POST',
      '/admin-tokens',
      {
        name: 'finance desk',
        scopes: ['billing'],
      },
    );
    const scoped = await browser.newContext({
      viewport: { width: 1366, height: 900 },
    });
    try {
      const p = await scoped.newPage();
      await p.goto(DASHBOARD);
      await p.getByLabel('Admin token').fill(token);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('scopes: billing').waitFor();
      await p.goto(`${DASHBOARD}/#/tenants`);
      await p
        .getByText(
          'Listing tenants needs the admin:read scope, which your admin token does not have.',
        )
        .waitFor();
      expect(
        await p.getByRole('link', { name: /Tenants/ }).innerText(),
      ).toContain('needs admin:read');
      await screenshot(p, '13-scoped-token-tenants');

      await p.goto(`${DASHBOARD}/#/usage`);
      const cells = await until('usage for a billing token', () =>
        rowCells(p, 'usage-table', f.tenantId.slice(0, 8)),
      );
      expect(cells[3]).toBe(String(f.requests));
    } finally {
      await scoped.close();
    }
  });

  it('never put a secret in a URL, and raised no script error', () => {
    for (const url of requestedUrls) {
      expect(url).not.toContain(stack.adminToken);
      if (f.secret) expect(url).not.toContain(f.secret);
      if (f.rotated) expect(url).not.toContain(f.rotated);
      if (f.probe) expect(url).not.toContain(f.probe);
    }
    expect(pageErrors).toEqual([]);
  });
});
