/**
 * Whether this process is shutting down. Set once on SIGTERM; readiness turns false and new
 * work is refused from then on, while work already accepted runs to its end or a deadline.
 */
export class DrainState {
  private startedAt: number | null = null;

  get draining(): boolean {
    return this.startedAt !== null;
  }

  /** Unix ms when draining began, or null. */
  get since(): number | null {
    return this.startedAt;
  }

  begin(): void {
    this.startedAt ??= Date.now();
  }
}
