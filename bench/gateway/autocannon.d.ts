/** The part of autocannon 8's API the gateway bench uses (the package ships no types). */
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
    }
    interface Result {
      /** Seconds the run took. */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
      requests: { average: number; total: number; sent: number };
      latency: { p50: number; p99: number; average: number; max: number };
    }
    interface Instance extends PromiseLike<Result> {
      /** `responseTime` in milliseconds (from `process.hrtime`, sub-millisecond). */
      on(
        event: 'response',
        listener: (
          client: unknown,
          statusCode: number,
          bytes: number,
          responseTime: number,
        ) => void,
      ): this;
      stop(): void;
    }
  }
  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
