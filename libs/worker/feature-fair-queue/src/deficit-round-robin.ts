import type { TenantShare } from '@marquee/contracts/queue';

interface Flow {
  share: TenantShare;
  deficit: number;
}

/**
 * Chooses whose job runs next: the lowest tier that has work wins outright; inside a tier,
 * deficit round-robin gives each tenant `weight` jobs per round. A tenant with nothing queued
 * keeps no credit, so idling never buys a later burst.
 */
export class DeficitRoundRobin {
  private readonly flows = new Map<string, Flow>();
  private order: string[] = [];
  private cursor = 0;

  /** Replaces the known tenants (new ones join at the end of the round). */
  update(shares: Map<string, TenantShare>): void {
    for (const [id, share] of shares) {
      const flow = this.flows.get(id);
      if (flow) flow.share = share;
      else {
        this.flows.set(id, { share, deficit: 0 });
        this.order.push(id);
      }
    }
    for (const id of [...this.flows.keys()])
      if (!shares.has(id)) this.flows.delete(id);
    this.order = this.order.filter((id) => this.flows.has(id));
    if (this.cursor >= this.order.length) this.cursor = 0;
  }

  /** Whether `id` is a tenant of the round (its share is known). */
  knows(id: string): boolean {
    return this.flows.has(id);
  }

  /**
   * Candidates in the order to try for the next job: every tenant of the most urgent tier first,
   * starting with the one the round is at. Call {@link served} or {@link idle} with the result.
   */
  candidates(): string[] {
    const tiers = [
      ...new Set(this.order.map((id) => this.share(id).tier)),
    ].sort((a, b) => a - b);
    const rotated = [
      ...this.order.slice(this.cursor),
      ...this.order.slice(0, this.cursor),
    ];
    return tiers.flatMap((tier) => {
      const inTier = rotated.filter((id) => this.share(id).tier === tier);
      // Tenants with credit left this round go first.
      return [
        ...inTier.filter((id) => this.flow(id).deficit >= 1),
        ...inTier.filter((id) => this.flow(id).deficit < 1),
      ];
    });
  }

  /** A job of `id` was taken: spend one unit of its credit, topping up when a round starts. */
  served(id: string): void {
    const flow = this.flows.get(id);
    if (!flow) return;
    if (flow.deficit < 1) flow.deficit += flow.share.weight;
    flow.deficit -= 1;
    if (flow.deficit < 1) this.advancePast(id);
  }

  /** `id` had nothing queued: it loses its credit and the round moves on. */
  idle(id: string): void {
    const flow = this.flows.get(id);
    if (!flow) return;
    flow.deficit = 0;
  }

  private advancePast(id: string): void {
    const index = this.order.indexOf(id);
    if (index >= 0) this.cursor = (index + 1) % this.order.length;
  }

  private flow(id: string): Flow {
    return this.flows.get(id) as Flow;
  }

  private share(id: string): TenantShare {
    return this.flow(id).share;
  }
}
