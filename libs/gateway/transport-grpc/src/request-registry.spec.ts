import type { GatewayCommandMessage } from '@marquee/contracts/proto';
import type { ChannelEvent } from './request-events';
import { RequestRegistry, type WorkerLinkHandle } from './request-registry';

function link(id: number) {
  const sent: GatewayCommandMessage[] = [];
  const handle: WorkerLinkHandle = { id, send: (c) => sent.push(c) };
  return { handle, sent };
}

/** Everything the channel holds right now (it is closed, or we stop at the first wait). */
async function drain(
  channel: AsyncIterable<ChannelEvent> & {
    next(): Promise<ChannelEvent | undefined>;
  },
  count: number,
): Promise<ChannelEvent[]> {
  const events: ChannelEvent[] = [];
  for (let i = 0; i < count; i++) {
    const event = await channel.next();
    if (event === undefined) break;
    events.push(event);
  }
  return events;
}

describe('RequestRegistry', () => {
  const started = {
    type: 'started',
    workerId: 'w',
    promptTokens: 3,
    pickupMs: 1,
  } as const;
  const tokens = {
    type: 'tokens',
    choiceIndex: 0,
    text: 'a',
    tokens: 1,
  } as const;

  it('hands a request whose worker was lost before it streamed to the next worker instead of failing it', async () => {
    const registry = new RequestRegistry();
    const channel = registry.open('r1');
    const first = link(1);
    registry.dispatch('r1', started, first.handle);
    registry.linkClosed(first.handle);
    const second = link(2);
    registry.dispatch('r1', started, second.handle);
    registry.dispatch('r1', tokens, second.handle);
    expect((await drain(channel, 4)).map((e) => e.type)).toEqual([
      'started',
      'lost',
      'started',
      'tokens',
    ]);
    expect(registry.size).toBe(1);
  });

  it('fails a request with worker_lost once its output reached the client', async () => {
    const registry = new RequestRegistry();
    const channel = registry.open('r2');
    const only = link(1);
    registry.dispatch('r2', started, only.handle);
    registry.dispatch('r2', tokens, only.handle);
    registry.linkClosed(only.handle);
    const events = await drain(channel, 5);
    expect(events.map((e) => e.type)).toEqual(['started', 'tokens', 'failed']);
    expect(events[2]).toMatchObject({ code: 'worker_lost' });
    expect(registry.size).toBe(0);
  });

  it('answers events of a request it does not hold with a cancel marked unheld', () => {
    const registry = new RequestRegistry();
    const worker = link(1);
    registry.dispatch('gone', started, worker.handle);
    expect(worker.sent).toEqual([
      { cancel: { requestId: 'gone', unheld: true } },
    ]);
  });
});
