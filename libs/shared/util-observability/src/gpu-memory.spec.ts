import { parseNvidiaSmi } from './gpu-memory';

describe('parseNvidiaSmi', () => {
  it('reads used and total MiB per GPU as bytes', () => {
    expect(parseNvidiaSmi('0, 1024, 143771\n1, 0, 143771\n')).toEqual([
      { index: '0', usedBytes: 1024 * 1048576, totalBytes: 143771 * 1048576 },
      { index: '1', usedBytes: 0, totalBytes: 143771 * 1048576 },
    ]);
  });

  it('ignores lines it does not understand (e.g. "[N/A]")', () => {
    expect(parseNvidiaSmi('0, [N/A], [N/A]\nNVIDIA-SMI has failed\n')).toEqual(
      [],
    );
  });
});
