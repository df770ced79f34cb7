import type { TenantShare } from '@marquee/contracts/queue';
import { DeficitRoundRobin } from './deficit-round-robin';

/** Serves `count` jobs from tenants that always have work, returning who was served. */
function serve(
  drr: DeficitRoundRobin,
  count: number,
  hasWork: (id: string) => boolean = () => true,
): string[] {
  const served: string[] = [];
  for (let i = 0; i < count; i++) {
    for (const id of drr.candidates()) {
      if (hasWork(id)) {
        drr.served(id);
        served.push(id);
        break;
      }
      drr.idle(id);
    }
  }
  return served;
}

const shares = (entries: [string, TenantShare][]) => new Map(entries);

describe('DeficitRoundRobin', () => {
  it('alternates between equally weighted tenants', () => {
    const drr = new DeficitRoundRobin();
    drr.update(
      shares([
        ['a', { tier: 5, weight: 1 }],
        ['b', { tier: 5, weight: 1 }],
      ]),
    );
    expect(serve(drr, 6)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('gives each tenant its weight in jobs per round', () => {
    const drr = new DeficitRoundRobin();
    drr.update(
      shares([
        ['a', { tier: 5, weight: 3 }],
        ['b', { tier: 5, weight: 1 }],
      ]),
    );
    const served = serve(drr, 400);
    expect(served.filter((id) => id === 'a').length).toBe(300);
    expect(served.slice(0, 4)).toEqual(['a', 'a', 'a', 'b']);
  });

  it('serves a more urgent tier first while it has work', () => {
    const drr = new DeficitRoundRobin();
    drr.update(
      shares([
        ['bulk', { tier: 5, weight: 10 }],
        ['vip', { tier: 0, weight: 1 }],
      ]),
    );
    let vipJobs = 3;
    const served = serve(drr, 6, (id) => id === 'bulk' || vipJobs-- > 0);
    expect(served).toEqual(['vip', 'vip', 'vip', 'bulk', 'bulk', 'bulk']);
  });

  it('lets a newcomer in within one round of a busy tenant', () => {
    const drr = new DeficitRoundRobin();
    drr.update(shares([['flood', { tier: 5, weight: 1 }]]));
    serve(drr, 50);
    drr.update(
      shares([
        ['flood', { tier: 5, weight: 1 }],
        ['single', { tier: 5, weight: 1 }],
      ]),
    );
    expect(serve(drr, 2)).toContain('single');
  });

  it('does not let an idle tenant bank credit for a later burst', () => {
    const drr = new DeficitRoundRobin();
    drr.update(
      shares([
        ['a', { tier: 5, weight: 1 }],
        ['b', { tier: 5, weight: 1 }],
      ]),
    );
    let bBusy = false;
    serve(drr, 20, (id) => id === 'a' || bBusy);
    bBusy = true;
    const next = serve(drr, 4);
    expect(next.filter((id) => id === 'b').length).toBe(2);
  });
});
