import { type MethodDefinition, loadSync } from '@grpc/proto-loader';
import {
  REQUEST_FAILURE_CODES,
  failureCodeFromWire,
  toWireFailureCode,
} from './failure-codes';
import { FailureCode } from './generated/marquee/v1/worker_link';
import type * as wire from './generated/marquee/v1/worker_link';
import type { Received } from './proto-loader-shapes';
import {
  type GatewayCommandMessage,
  PROTO_LOADER_OPTIONS,
  WORKER_LINK_PACKAGE,
  WORKER_LINK_PROTO,
  WORKER_LINK_SERVICE,
  type WorkerReportMessage,
  protoRoot,
} from './worker-link';

// Both ends' runtime path: the .proto loaded with PROTO_LOADER_OPTIONS. A message written by one
// end and read by the other must come out as the types say; the expected values below are typed,
// so tsc holds the types to them and Jest holds proto-loader to them.
const connect = loadSync(WORKER_LINK_PROTO, {
  ...PROTO_LOADER_OPTIONS,
  includeDirs: [protoRoot()],
})[`${WORKER_LINK_PACKAGE}.${WORKER_LINK_SERVICE}`] as unknown as Record<
  'Connect',
  MethodDefinition<
    WorkerReportMessage,
    GatewayCommandMessage,
    Received<wire.WorkerReport>,
    Received<wire.GatewayCommand>
  >
>;

function overTheWire(report: WorkerReportMessage): Received<wire.WorkerReport> {
  const { requestSerialize, requestDeserialize } = connect.Connect;
  return requestDeserialize(requestSerialize(report));
}

describe('the worker link as proto-loader carries it', () => {
  it('hands a report over with every field filled in and the oneofs named', () => {
    const bytes = Buffer.from('Hi');
    const expected: Received<wire.WorkerReport> = {
      kind: 'batch',
      batch: {
        sentAtUnixMs: 1.5,
        events: [
          {
            requestId: 'a',
            event: 'started',
            started: { workerId: 'w1', promptTokens: 3, pickupMs: 0 },
          },
          {
            requestId: 'a',
            event: 'tokens',
            tokens: {
              choiceIndex: 0,
              text: 'Hi',
              tokens: 1,
              logprobs: [
                {
                  token: 'Hi',
                  logprob: -0.5,
                  bytes,
                  topLogprobs: [{ token: 'Hi', logprob: -0.5, bytes }],
                },
              ],
            },
          },
          {
            requestId: 'a',
            event: 'finished',
            finished: {
              promptTokens: 3,
              completionTokens: 1,
              choices: [
                { index: 0, finishReason: 'stop', completionTokens: 1 },
              ],
              embeddings: [],
            },
          },
          {
            requestId: 'b',
            event: 'failed',
            failed: {
              code: FailureCode.CONTEXT_LENGTH_EXCEEDED,
              message: 'too long',
              param: '',
              promptTokens: 0,
              completionTokens: 0,
            },
          },
          { requestId: 'c' },
        ],
      },
    };
    const received = overTheWire({
      batch: {
        sentAtUnixMs: 1.5,
        events: [
          {
            requestId: 'a',
            started: { workerId: 'w1', promptTokens: 3 },
          },
          {
            requestId: 'a',
            tokens: {
              text: 'Hi',
              tokens: 1,
              logprobs: [
                {
                  token: 'Hi',
                  logprob: -0.5,
                  bytes: new TextEncoder().encode('Hi'),
                  topLogprobs: [{ token: 'Hi', logprob: -0.5, bytes }],
                },
              ],
            },
          },
          {
            requestId: 'a',
            finished: {
              promptTokens: 3,
              completionTokens: 1,
              choices: [{ finishReason: 'stop', completionTokens: 1 }],
            },
          },
          {
            requestId: 'b',
            failed: {
              code: FailureCode.CONTEXT_LENGTH_EXCEEDED,
              message: 'too long',
            },
          },
          { requestId: 'c' },
        ],
      },
    });
    expect(received).toEqual(expected);
    expect(received.batch?.events[1].tokens?.logprobs[0].bytes).toBeInstanceOf(
      Buffer,
    );
  });

  it('hands over a heartbeat whose int64 is a number, and a report with nothing set as an empty object', () => {
    const heartbeat: Received<wire.WorkerReport> = {
      kind: 'heartbeat',
      heartbeat: {
        workerId: 'w1',
        sentAtMs: 1_767_225_600_000,
        activeRequests: 2,
      },
    };
    expect(
      overTheWire({
        heartbeat: {
          workerId: 'w1',
          sentAtMs: 1_767_225_600_000,
          activeRequests: 2,
        },
      }),
    ).toEqual(heartbeat);
    const nothing: Received<wire.WorkerReport> = {};
    expect(overTheWire({})).toEqual(nothing);
  });

  it('hands a cancel command over with its flag filled in', () => {
    const { responseSerialize, responseDeserialize } = connect.Connect;
    const expected: Received<wire.GatewayCommand> = {
      kind: 'cancel',
      cancel: { requestId: 'r1', unheld: false },
    };
    expect(
      responseDeserialize(responseSerialize({ cancel: { requestId: 'r1' } })),
    ).toEqual(expected);
  });

  it('hands over a failure code this build does not know as its number, which maps to no code', () => {
    const received = overTheWire({
      batch: {
        events: [
          // A newer worker's code.
          { requestId: 'x', failed: { code: 99 as unknown as FailureCode } },
        ],
      },
    });
    const code = received.batch?.events[0].failed?.code;
    expect(code).toBe(99);
    expect(failureCodeFromWire(code ?? FailureCode.UNSPECIFIED)).toBeNull();
  });
});

describe('request failure codes', () => {
  it('are the lower-case names of the enum, the codes clients see in error bodies', () => {
    expect(REQUEST_FAILURE_CODES).toEqual([
      'context_length_exceeded',
      'invalid_prompt',
      'cancelled',
      'model_error',
      'worker_lost',
      'no_worker_available',
      'queue_unavailable',
    ]);
  });

  it('travel as their enum values and come back as themselves', () => {
    for (const code of REQUEST_FAILURE_CODES) {
      const received = overTheWire({
        batch: {
          events: [
            { requestId: 'x', failed: { code: toWireFailureCode(code) } },
          ],
        },
      });
      const wireCode = received.batch?.events[0].failed?.code;
      expect(wireCode).toBe(`FAILURE_CODE_${code.toUpperCase()}`);
      expect(failureCodeFromWire(wireCode ?? FailureCode.UNSPECIFIED)).toBe(
        code,
      );
    }
    expect(failureCodeFromWire(FailureCode.UNSPECIFIED)).toBeNull();
  });
});

// What the types refuse (checked by tsc, which reads the specs too).
export const refused: Received<wire.RequestEvent>[] = [
  // @ts-expect-error: a oneof has one member set at most
  {
    requestId: 'x',
    event: 'failed',
    failed: {
      code: FailureCode.CANCELLED,
      message: '',
      param: '',
      promptTokens: 0,
      completionTokens: 0,
    },
    tokens: { choiceIndex: 0, text: '', tokens: 0, logprobs: [] },
  },
  // @ts-expect-error: the property naming the set member is always there on receipt
  {
    requestId: 'x',
    started: { workerId: 'w1', promptTokens: 0, pickupMs: 0 },
  },
];
