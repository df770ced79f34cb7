import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { MANIFEST_FILE } from '@marquee/shared/model-format';
import type { WorkerConfig } from '@marquee/worker/util-config';
import { ModelHost } from './model-host.service';

describe('ModelHost.load', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'model-host-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says which model folder it skipped for a broken manifest, and passes over folders that are not models', async () => {
    mkdirSync(join(dir, 'broken'));
    writeFileSync(join(dir, 'broken', MANIFEST_FILE), '{ "name": ');
    mkdirSync(join(dir, 'notes'));
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => undefined);
    try {
      const host = await ModelHost.load({
        modelsDir: dir,
        models: [],
      } as unknown as WorkerConfig);
      expect(host.allNames).toEqual([]);
      const skipped = warn.mock.calls.filter(([context]) =>
        JSON.stringify(context).includes('broken'),
      );
      expect(skipped).toHaveLength(1);
      expect(JSON.stringify(warn.mock.calls)).not.toContain('notes');
    } finally {
      warn.mockRestore();
    }
  });
});
