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
