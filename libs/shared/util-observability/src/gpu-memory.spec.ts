import { GpuMemoryReader, parseNvidiaSmi } from './gpu-memory';

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

describe('GpuMemoryReader', () => {
  afterEach(() => jest.useRealTimers());

  it('runs one read for callers asking together or within the refresh period, and reads again after it', async () => {
    jest.useFakeTimers({ now: 0 });
    let reads = 0;
    const reader = new GpuMemoryReader(10_000, async () => {
      reads += 1;
      return [{ index: '0', usedBytes: reads, totalBytes: 100 }];
    });
    const [a, b] = await Promise.all([reader.current(), reader.current()]);
    expect(reads).toBe(1);
    expect(a).toBe(b);
    jest.setSystemTime(9_999);
    expect((await reader.current())[0].usedBytes).toBe(1);
    jest.setSystemTime(10_001);
    expect((await reader.current())[0].usedBytes).toBe(2);
    expect(reads).toBe(2);
  });
});
