import type { ChoiceStream } from '../choice-stream';
import { nextChunk, prefillOf, PrefillTurns } from './chunked-prefill';
import type { PendingRequest } from './scheduled-request';

function request(promptTokenIds: number[]): PendingRequest {
  return {
    spec: {
      promptTokenIds,
      choices: [{} as ChoiceStream],
      maxTokens: 1,
      onDelta: () => undefined,
    },
    reservedTokens: promptTokenIds.length + 1,
    unfinished: 1,
    settled: false,
    resolve: () => undefined,
    reject: () => undefined,
  };
}

describe('nextChunk', () => {
  it('left-pads shorter prompts with masked zeros, positions counting from their first real token', () => {
    const group = prefillOf([request([5, 6, 7]), request([8])]);
    expect(group.width).toBe(3);
    const { input, end } = nextChunk(group, 2048);
    expect(end).toBe(3);
    expect(input).toMatchObject({
      inputIds: [
        [5, 6, 7],
        [0, 0, 8],
      ],
      attentionMask: [
        [1, 1, 1],
        [0, 0, 1],
      ],
      positionIds: [
        [0, 1, 2],
        [0, 0, 0],
      ],
      phase: 'prefill',
    });
  });

  it('cuts a prompt longer than maxPrefillTokens into chunks whose mask covers the cached columns too', () => {
    const group = prefillOf([request([1, 2, 3, 4, 5])]);
    const first = nextChunk(group, 2);
    expect(first.end).toBe(2);
    expect(first.input.inputIds).toEqual([[1, 2]]);
    group.done = first.end;
    const second = nextChunk(group, 2);
    expect(second.end).toBe(4);
    expect(second.input.inputIds).toEqual([[3, 4]]);
    expect(second.input.positionIds).toEqual([[2, 3]]);
    expect(second.input.attentionMask).toEqual([[1, 1, 1, 1]]);
  });
});

describe('PrefillTurns', () => {
  it('lets prompts that fit in one run take turns with the chunks of a long one', () => {
    const turns = new PrefillTurns();
    const long = request(new Array<number>(50).fill(1));
    const short = request([1, 2]);
    const onlyOneRun: boolean[] = [];
    const queue = [long, short];
    const admit = (oneRunOnly: boolean) => {
      onlyOneRun.push(oneRunOnly);
      return queue.splice(0, oneRunOnly ? queue.length : 1);
    };
    const first = turns.next(admit);
    expect(first?.requests).toEqual([long]);
    expect(turns.current).toBe(first);
    // The long prompt's chunk ran last: a short prompt goes next, then the long one again.
    expect(turns.next(admit)?.requests).toEqual([short]);
    expect(turns.next(admit)).toBe(first);
    expect(onlyOneRun).toEqual([false, true]);
    expect(turns.sequences).toBe(1);
    turns.finish(first as NonNullable<typeof first>);
    expect(turns.current).toBeUndefined();
    expect(turns.next(admit)).toBeUndefined();
  });
});
