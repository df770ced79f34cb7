import * as ort from 'onnxruntime-node';
import type { ChoiceStream } from '../choice-stream';
import { hostLayers, KvCache, type KvLayout } from '../kv-cache';
import { decodeInput, LengthGroups, type Placed } from './length-groups';
import type { PendingRequest } from './scheduled-request';

// One layer, one head, one value per position: a cache row reads as its positions' values.
const layout: KvLayout = { layers: 1, heads: 1, headDim: 1, dtype: 'float32' };

/** A cache whose row `r` holds `rows[r]`, left-padded with zeros to the longest. */
function cacheOf(rows: number[][]): KvCache {
  const length = Math.max(...rows.map((r) => r.length));
  const data = new Float32Array(rows.length * length);
  rows.forEach((r, i) => data.set(r, i * length + length - r.length));
  const tensor = () =>
    new ort.Tensor('float32', data.slice(), [rows.length, 1, length, 1]);
  return KvCache.fromLayers(layout, [{ key: tensor(), value: tensor() }]);
}

function rowsOf(cache: KvCache): number[][] {
  const data = Array.from(hostLayers(cache)[0].key.data as Float32Array);
  return Array.from({ length: cache.batch }, (_, r) =>
    data.slice(r * cache.length, (r + 1) * cache.length),
  );
}

/** Sequences of the given lengths, each alone in a cache of its own. */
function alone(...lengths: number[]): Placed[] {
  return lengths.map((length, i) => ({
    seq: {
      request: { settled: false } as PendingRequest,
      choice: { finishReason: undefined } as unknown as ChoiceStream,
      length,
      lastToken: i,
    },
    cache: cacheOf([Array.from({ length }, (_, p) => 100 * (i + 1) + p)]),
    row: 0,
    keep: length,
  }));
}

describe('LengthGroups', () => {
  it('groups sequences within the free padding or half the width, and puts far shorter ones apart', () => {
    const groups = new LengthGroups(layout, 4);
    groups.regroup(alone(3, 40, 20, 37, 19));
    expect(groups.all.map((g) => g.rows.map((s) => s.length))).toEqual([
      [40, 37, 20],
      [19],
      [3],
    ]);
    expect(groups.all.map((g) => g.width)).toEqual([40, 19, 3]);
    expect(groups.sequences).toBe(5);
  });

  it('gathers each group into one left-padded cache holding every row right-aligned', () => {
    const groups = new LengthGroups(layout, 4);
    groups.regroup(alone(2, 4));
    const [group] = groups.all;
    expect(rowsOf(group.cache)).toEqual([
      [200, 201, 202, 203],
      [0, 0, 100, 101],
    ]);
    expect(decodeInput(group)).toMatchObject({
      inputIds: [[1], [0]],
      attentionMask: [
        [1, 1, 1, 1, 1],
        [0, 0, 1, 1, 1],
      ],
      positionIds: [[4], [2]],
      phase: 'decode',
    });
  });

  it('drops finished and settled sequences and trims the padding they leave', () => {
    const groups = new LengthGroups(layout, 64);
    const [short, mid, long] = alone(2, 3, 5);
    groups.regroup([short, mid, long]);
    expect(groups.all[0].width).toBe(5);
    (long.seq.choice as { finishReason?: string }).finishReason = 'stop';
    expect(groups.hasEnded()).toBe(true);
    groups.regroup();
    expect(groups.all[0].width).toBe(3);
    expect(rowsOf(groups.all[0].cache)).toEqual([
      [200, 201, 202],
      [0, 100, 101],
    ]);
    short.seq.request.settled = true;
    expect(groups.holds(short.seq.request)).toBe(true);
    groups.regroup();
    expect(groups.holds(short.seq.request)).toBe(false);
    expect(groups.all.map((g) => g.rows)).toEqual([[mid.seq]]);
  });

  it('keeps the cache of a group whose rows, order and width have not changed', () => {
    const groups = new LengthGroups(layout, 64);
    groups.regroup(alone(2, 3));
    const before = groups.all[0].cache;
    groups.regroup();
    expect(groups.all[0].cache).toBe(before);
    expect(groups.hasEnded()).toBe(false);
  });
});
