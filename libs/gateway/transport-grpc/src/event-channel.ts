/**
 * An unbounded single-consumer queue of events, read with `for await`. Producers never wait:
 * gRPC frames arrive as fast as workers send them, and the HTTP side drains them.
 */
export class EventChannel<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | null = null;
  private closed = false;

  push(value: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve({ value, done: false });
    } else {
      this.buffer.push(value);
    }
  }

  /** Ends iteration once buffered events are consumed. */
  close(): void {
    this.closed = true;
    if (this.waiter && this.buffer.length === 0) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve({ value: undefined, done: true });
    }
  }

  /** The next event, or `undefined` when closed and drained. */
  next(): Promise<T | undefined> {
    if (this.buffer.length > 0) return Promise.resolve(this.buffer.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = (result) => resolve(result.done ? undefined : result.value);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const value = await this.next();
      if (value === undefined) return;
      yield value;
    }
  }
}
