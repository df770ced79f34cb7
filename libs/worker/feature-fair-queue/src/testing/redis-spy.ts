import type { Redis } from 'ioredis';

/**
 * Watches the commands sent on `connections` from now on: how many, and when a given one goes
 * out (so a spec awaits "the source is asleep on the bell", not a guess at how long that takes).
 */
export function spyOnCommands(...connections: Redis[]) {
  let count = 0;
  const awaited: { name: string; resolve: () => void }[] = [];
  for (const connection of connections) {
    const send = connection.sendCommand.bind(connection);
    connection.sendCommand = ((...args: Parameters<typeof send>) => {
      count++;
      const name = args[0].name.toLowerCase();
      for (const waiter of awaited.filter((w) => w.name === name)) {
        awaited.splice(awaited.indexOf(waiter), 1);
        waiter.resolve();
      }
      return send(...args);
    }) as typeof connection.sendCommand;
  }
  return {
    /** Commands sent since the spy began or was last reset. */
    get count() {
      return count;
    },
    reset: () => {
      count = 0;
    },
    /** Resolves when the next command called `name` (lower case: `blpop`) is sent. */
    next: (name: string) =>
      new Promise<void>((resolve) => awaited.push({ name, resolve })),
  };
}

/** Resolves once `times` commands called `name` have been sent from now on. */
export async function sent(
  spy: ReturnType<typeof spyOnCommands>,
  name: string,
  times = 1,
): Promise<void> {
  for (let i = 0; i < times; i++) await spy.next(name);
}
