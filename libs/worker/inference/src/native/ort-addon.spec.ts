import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_FILES } from '@marquee/shared/model-format';
import { makeCausalLm } from '@marquee/shared/model-maker';
import * as ort from 'onnxruntime-node';
import {
  type DeviceTensor,
  type HostTensor,
  type NativeSession,
  loadOrtAddon,
  ortAddonPath,
} from './ort-addon';

const LAYERS = 2;
const HEADS = 4;
const HEAD_DIM = 16;
const VOCAB = 300;

const addon = loadOrtAddon();
if (!addon)
  throw new Error(
    `the ONNX Runtime addon is not built at ${ortAddonPath()}: run npm run build:addon`,
  );

const int64 = (rows: number[][]): HostTensor => ({
  type: 'int64',
  dims: [rows.length, rows[0].length],
  data: BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
});

const emptyPast = (batch: number): HostTensor => ({
  type: 'float32',
  dims: [batch, HEADS, 0, HEAD_DIM],
  data: new Float32Array(0),
});

/** The feeds of one step: ids, a full mask and positions, and the past of each layer. */
function feedsOf<T>(
  ids: number[][],
  pastLength: number,
  past: (name: string) => T,
) {
  const seq = ids[0].length;
  const feeds: Record<string, HostTensor | T> = {
    input_ids: int64(ids),
    attention_mask: int64(ids.map(() => Array(pastLength + seq).fill(1))),
    position_ids: int64(
      ids.map(() => Array.from({ length: seq }, (_, i) => pastLength + i)),
    ),
  };
  for (let l = 0; l < LAYERS; l++)
    for (const kv of ['key', 'value'])
      feeds[`past_key_values.${l}.${kv}`] = past(`present.${l}.${kv}`);
  return feeds;
}

const presentNames = Array.from({ length: LAYERS }, (_, l) => [
  `present.${l}.key`,
  `present.${l}.value`,
]).flat();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const argmaxRows = (logits: Float32Array, rows: number, seq: number) =>
  Array.from({ length: rows }, (_, r) => {
    const row = logits.subarray(
      (r * seq + seq - 1) * VOCAB,
      (r * seq + seq) * VOCAB,
    );
    return row.indexOf(Math.max(...row));
  });

describe('the ONNX Runtime addon (CPU provider)', () => {
  let root: string;
  let modelPath: string;
  let reference: ort.InferenceSession;
  let native: NativeSession;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-ort-addon-'));
    const made = makeCausalLm({
      out: join(root, 'm'),
      layers: LAYERS,
      hidden: HEADS * HEAD_DIM,
      heads: HEADS,
      vocab: VOCAB,
      context: 64,
      seed: 5,
    });
    modelPath = join(made.dir, MODEL_FILES.onnx);
    reference = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1,
    });
    native = new addon.NativeSession(modelPath, {
      provider: 'cpu',
      intraOpThreads: 1,
    });
  });

  afterAll(async () => {
    native?.release();
    await reference?.release();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs on onnxruntime-node’s own ONNX Runtime and lists the graph’s names', () => {
    expect(addon.ortVersion).toBe(ort.env.versions.common);
    expect(native.provider).toBe('cpu');
    expect(native.inputNames).toEqual(reference.inputNames);
    expect(native.outputNames).toEqual(reference.outputNames);
  });

  it.each([
    ['one sequence', [[5, 9, 17, 3]]],
    [
      'a batch of three',
      [
        [5, 9, 17, 3],
        [40, 2, 2, 8],
        [100, 101, 7, 250],
      ],
    ],
  ])(
    'gives the logits onnxruntime-node gives, step by step, with the KV cache kept in device memory (%s)',
    async (_, prompt) => {
      const rows = prompt.length;
      let ids = prompt;
      let pastLength = 0;
      let refPast: Record<string, ort.Tensor> = {};
      let nativePast: Record<string, DeviceTensor> = {};
      for (let step = 0; step < 6; step++) {
        const seq = ids[0].length;
        const refFeeds = feedsOf(ids, pastLength, (present) =>
          pastLength === 0 ? emptyPast(rows) : refPast[present],
        );
        const refOut = await reference.run(
          Object.fromEntries(
            Object.entries(refFeeds).map(([name, t]) => [
              name,
              t instanceof ort.Tensor
                ? t
                : new ort.Tensor(t.type, t.data, [...t.dims]),
            ]),
          ),
        );
        const nativeOut = native.run(
          feedsOf(ids, pastLength, (present) =>
            pastLength === 0 ? emptyPast(rows) : nativePast[present],
          ),
          {
            logits: 'host',
            ...Object.fromEntries(presentNames.map((n) => [n, 'device'])),
          },
        );
        const refLogits = refOut.logits.data as Float32Array;
        expect(
          maxAbsDiff(nativeOut.logits as Float32Array, refLogits),
        ).toBeLessThan(1e-5);
        for (const tensor of Object.values(nativePast)) tensor.release();
        nativePast = Object.fromEntries(
          presentNames.map((n) => [n, nativeOut[n] as DeviceTensor]),
        );
        expect(nativePast['present.0.key'].dims).toEqual([
          rows,
          HEADS,
          pastLength + seq,
          HEAD_DIM,
        ]);
        refPast = Object.fromEntries(presentNames.map((n) => [n, refOut[n]]));
        pastLength += seq;
        ids = argmaxRows(refLogits, rows, seq).map((t) => [t]);
      }
      for (const tensor of Object.values(nativePast)) tensor.release();
    },
  );

  it('gives a sequence the same logits alone as in a batch', () => {
    const prompt = [
      [5, 9, 17, 3],
      [40, 2, 2, 8],
    ];
    const outputs = { logits: 'host' as const };
    const batched = native.run(
      feedsOf(prompt, 0, () => emptyPast(2)),
      outputs,
    ).logits as Float32Array;
    const alone = native.run(
      feedsOf([prompt[1]], 0, () => emptyPast(1)),
      outputs,
    ).logits as Float32Array;
    expect(
      maxAbsDiff(alone, batched.subarray(alone.length, 2 * alone.length)),
    ).toBeLessThan(1e-5);
  });

  it('turns ONNX Runtime’s errors into JavaScript errors with its message, and keeps working', () => {
    const feeds = feedsOf([[1, 2]], 0, () => emptyPast(1));
    expect(() =>
      native.run(
        { ...feeds, input_ids: int64([[1, 2, 3]]) },
        { logits: 'host' },
      ),
    ).toThrow(/ONNX Runtime: .+/);
    expect(() =>
      native.run(
        {
          ...feeds,
          input_ids: {
            type: 'int64',
            dims: [1, 3],
            data: new BigInt64Array(2),
          },
        },
        { logits: 'host' },
      ),
    ).toThrow('input_ids: data holds 16 bytes, dims need 24');
    expect(() => native.run(feeds, { nope: 'host' })).toThrow(/ONNX Runtime: /);
    expect(() => new addon.NativeSession(join(root, 'missing.onnx'))).toThrow(
      /ONNX Runtime: .*missing\.onnx/,
    );
    expect(native.run(feeds, { logits: 'host' }).logits).toBeInstanceOf(
      Float32Array,
    );
  });

  it('runs off the event loop with runAsync, with the same results and errors as run', async () => {
    const feeds = feedsOf([[5, 9, 17, 3]], 0, () => emptyPast(1));
    const outputs = {
      logits: 'host' as const,
      'present.1.value': 'device' as const,
    };
    // Twenty at once: they run on libuv's threads and resolve on this one.
    const pending = Array.from({ length: 20 }, () =>
      native.runAsync(feeds, outputs),
    );
    const results = await Promise.all(pending);
    const sync = native.run(feeds, outputs);
    for (const result of results) {
      expect(result.logits).toEqual(sync.logits);
      const kv = result['present.1.value'] as DeviceTensor;
      expect(kv.toHost()).toEqual(
        (sync['present.1.value'] as DeviceTensor).toHost(),
      );
      kv.release();
    }
    (sync['present.1.value'] as DeviceTensor).release();
    await expect(
      native.runAsync({ ...feeds, input_ids: int64([[1, 2, 3]]) }, outputs),
    ).rejects.toThrow(/ONNX Runtime: .+/);
    expect(() =>
      native.runAsync(feeds, { logits: 'nowhere' as 'host' }),
    ).toThrow("logits: expected 'host', 'device' or 'last-float32'");
  });

  it('reads back only each row’s last logits with last-float32', () => {
    const feeds = feedsOf(
      [
        [5, 9, 17],
        [40, 2, 2],
      ],
      0,
      () => emptyPast(2),
    );
    const all = native.run(feeds, { logits: 'host' })['logits'] as Float32Array;
    const last = native.run(feeds, { logits: 'last-float32' })['logits'];
    expect(last).toBeInstanceOf(Float32Array);
    expect(Array.from(last as Float32Array)).toEqual([
      ...all.subarray(2 * VOCAB, 3 * VOCAB),
      ...all.subarray(5 * VOCAB, 6 * VOCAB),
    ]);
    expect(() =>
      native.run(feeds, { 'present.0.key': 'last-float32' }),
    ).toThrow(
      /'last-float32' takes a \[batch, positions, width\] float tensor/,
    );
  });

  it('describes its inputs: element types, and -1 for symbolic dims', () => {
    const types = native.inputTypes;
    expect(Object.keys(types)).toEqual(reference.inputNames);
    expect(types['input_ids']).toEqual({ type: 'int64', dims: [-1, -1] });
    expect(types['past_key_values.0.key']).toEqual({
      type: 'float32',
      dims: [-1, HEADS, -1, HEAD_DIM],
    });
  });

  it('gathers KV rows on the device: kept positions right-aligned, zeros before, as the host would', () => {
    const present = native.run(
      feedsOf(
        [
          [5, 9, 17],
          [40, 2, 2],
        ],
        0,
        () => emptyPast(2),
      ),
      {
        'present.0.key': 'device',
      },
    )['present.0.key'] as DeviceTensor;
    const host = present.toHost() as Float32Array;
    const row = (r: number, from: number, to: number) =>
      Array.from({ length: HEADS }, (_, h) =>
        Array.from(
          host.subarray(
            ((r * HEADS + h) * 3 + from) * HEAD_DIM,
            ((r * HEADS + h) * 3 + to) * HEAD_DIM,
          ),
        ),
      );
    const zeros = (positions: number) =>
      Array.from({ length: HEADS }, () => Array(positions * HEAD_DIM).fill(0));
    // Row 0: row 1's last two positions in four; row 1: all of row 0; row 2: nothing kept.
    const gathered = native.gather(
      'float32',
      [3, HEADS, 4, HEAD_DIM],
      [present, present, null],
      [1, 0, 0],
      [2, 3, 0],
    );
    expect(gathered.dims).toEqual([3, HEADS, 4, HEAD_DIM]);
    const out = gathered.toHost() as Float32Array;
    const outRow = (r: number) =>
      Array.from({ length: HEADS }, (_, h) =>
        Array.from(
          out.subarray(
            (r * HEADS + h) * 4 * HEAD_DIM,
            (r * HEADS + h + 1) * 4 * HEAD_DIM,
          ),
        ),
      );
    const joined = (a: number[][], b: number[][]) =>
      a.map((x, h) => [...x, ...b[h]]);
    expect(outRow(0)).toEqual(joined(zeros(2), row(1, 1, 3)));
    expect(outRow(1)).toEqual(joined(zeros(1), row(0, 0, 3)));
    expect(outRow(2)).toEqual(zeros(4));
    expect(() =>
      native.gather('float32', [1, HEADS, 4, HEAD_DIM], [present], [2], [1]),
    ).toThrow(/cannot keep 1 positions of row 2 of a \[2, 4, 3, 16\] tensor/);
    expect(() =>
      native.gather('float32', [1, HEADS, 2, HEAD_DIM], [present], [0], [3]),
    ).toThrow(/cannot keep 3 positions of row 0 .* in 2$/);
    expect(() =>
      native.gather('float16', [1, HEADS, 4, HEAD_DIM], [present], [0], [1]),
    ).toThrow(/not a float16 tensor/);
    expect(() =>
      native.gather('float32', [1, HEADS, 4, HEAD_DIM], [null], [0], [1]),
    ).toThrow(/expected a DeviceTensor/);
    gathered.release();
    present.release();
  });

  it('keeps a released session’s device tensors usable until they are released', () => {
    const session = new addon.NativeSession(modelPath, { intraOpThreads: 1 });
    const out = session.run(
      feedsOf([[1, 2, 3]], 0, () => emptyPast(1)),
      {
        'present.0.key': 'device',
      },
    );
    session.release();
    expect(() => session.run({}, {})).toThrow('the session was released');
    const kept = out['present.0.key'] as DeviceTensor;
    expect(kept.dims).toEqual([1, HEADS, 3, HEAD_DIM]);
    expect(kept.toHost()).toHaveLength(HEADS * 3 * HEAD_DIM);
    kept.release();
    expect(() => kept.toHost()).toThrow('the device tensor was released');
  });

  it('frees what sequences held: thousands of them leave memory flat', () => {
    const feeds = feedsOf([[3, 4, 5, 6, 7, 8, 9, 10]], 0, () => emptyPast(1));
    const outputs = Object.fromEntries(
      presentNames.map((n) => [n, 'device' as const]),
    );
    const cycle = (times: number) => {
      for (let i = 0; i < times; i++)
        for (const tensor of Object.values(native.run(feeds, outputs)))
          (tensor as DeviceTensor).release();
    };
    cycle(200); // allocator warm-up
    const before = process.memoryUsage().rss;
    cycle(3000);
    const grown = process.memoryUsage().rss - before;
    // 3,000 sequences x 4 tensors x 2 KiB each would be 24 MiB if none were freed.
    expect(grown).toBeLessThan(8 * 2 ** 20);
  });
});
