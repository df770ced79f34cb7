import { execFile } from 'node:child_process';

/** Memory of one GPU, in bytes. */
export interface GpuMemory {
  index: string;
  usedBytes: number;
  totalBytes: number;
}

const MIB = 1024 * 1024;

/**
 * Reads GPU memory with `nvidia-smi` (present where the NVIDIA container toolkit mounts the
 * driver utilities: `NVIDIA_DRIVER_CAPABILITIES` must include `utility`). Resolves to an empty
 * list when it is missing or fails: ONNX Runtime's Node API does not report device memory.
 */
export function readGpuMemory(timeoutMs = 2000): Promise<GpuMemory[]> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      [
        '--query-gpu=index,memory.used,memory.total',
        '--format=csv,noheader,nounits',
      ],
      { timeout: timeoutMs },
      (error, stdout) => {
        if (error) return resolve([]);
        resolve(parseNvidiaSmi(stdout));
      },
    );
  });
}

/** Parses `index, used MiB, total MiB` lines. */
export function parseNvidiaSmi(output: string): GpuMemory[] {
  return output
    .split('\n')
    .map((line) => line.split(',').map((cell) => cell.trim()))
    .filter(
      (cells) => cells.length === 3 && cells.every((c) => /^\d+$/.test(c)),
    )
    .map(([index, used, total]) => ({
      index,
      usedBytes: Number(used) * MIB,
      totalBytes: Number(total) * MIB,
    }));
}

/** GPU memory is read at most this often (nvidia-smi takes tens of ms), ms. */
export const GPU_REFRESH_MS = 10_000;

/**
 * GPU memory read at most once per `refreshMs`, whoever asks: the worker's presence and its
 * metrics share one reading instead of each running `nvidia-smi` on its own timer.
 */
export class GpuMemoryReader {
  private last: GpuMemory[] = [];
  private readAt = -Infinity;
  private reading: Promise<GpuMemory[]> | null = null;

  constructor(
    private readonly refreshMs = GPU_REFRESH_MS,
    private readonly read: () => Promise<GpuMemory[]> = readGpuMemory,
  ) {}

  /** The last reading, read anew (once, for every caller waiting) when it is older than `refreshMs`. */
  current(): Promise<GpuMemory[]> {
    if (Date.now() - this.readAt < this.refreshMs)
      return Promise.resolve(this.last);
    this.reading ??= this.read()
      .then((gpus) => {
        this.last = gpus;
        this.readAt = Date.now();
        return gpus;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}

/** The process's one {@link GpuMemoryReader}. */
export const gpuMemory = new GpuMemoryReader();
