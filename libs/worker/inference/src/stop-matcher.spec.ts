import { StopMatcher } from './stop-matcher';

function feed(
  matcher: StopMatcher,
  pieces: string[],
): { emitted: string[]; stoppedAt: number } {
  const emitted: string[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const { text, stopped } = matcher.push(pieces[i]);
    emitted.push(text);
    if (stopped) return { emitted, stoppedAt: i };
  }
  return { emitted, stoppedAt: -1 };
}

describe('StopMatcher', () => {
  it('stops before a stop string that spans pieces and never emits any of it', () => {
    const { emitted, stoppedAt } = feed(new StopMatcher(['END']), [
      'hello E',
      'N',
      'D tail',
    ]);
    expect(stoppedAt).toBe(2);
    expect(emitted).toEqual(['hello ', '', '']);
  });

  it('releases held-back text once it can no longer start a stop string', () => {
    const matcher = new StopMatcher(['END']);
    expect(feed(matcher, ['ab E', 'Nx']).emitted).toEqual(['ab ', 'ENx']);
  });

  it('stops at the earliest of several stop strings', () => {
    const { emitted, stoppedAt } = feed(new StopMatcher(['yz', 'b']), [
      'a',
      'bcxyz',
    ]);
    expect(stoppedAt).toBe(1);
    expect(emitted.join('')).toBe('a');
  });

  it('hands back the held text on flush when the sequence ends otherwise', () => {
    const matcher = new StopMatcher(['\n\n']);
    expect(matcher.push('line\n').text).toBe('line');
    expect(matcher.flush()).toBe('\n');
  });

  it('passes everything through without stop strings', () => {
    expect(feed(new StopMatcher(['']), ['a', 'b']).emitted).toEqual(['a', 'b']);
  });
});
