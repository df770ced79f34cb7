import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

interface CheckResult {
  name: string;
  items: string[];
  problems: string[];
}

function deployCheck(root = ROOT): CheckResult[] {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(__dirname, 'deploy-check.ts'),
      '--json',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, DEPLOY_CHECK_ROOT: root },
      encoding: 'utf8',
    },
  );
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('['))
    throw new Error(`deploy-check failed:\n${result.stdout}${result.stderr}`);
  return JSON.parse(line) as CheckResult[];
}

const problemsOf = (results: CheckResult[]) =>
  results.flatMap((r) => r.problems);

describe('deploy/', () => {
  it('renders both Kustomize overlays into valid manifests, a valid compose file and clean Dockerfiles', () => {
    const results = deployCheck();
    expect(problemsOf(results)).toEqual([]);
    const prod = results.find((r) => r.name === 'kubernetes overlay prod');
    expect(prod?.items).toEqual(
      expect.arrayContaining([
        'Deployment/marquee-gateway',
        'Deployment/marquee-worker',
        'Service/marquee-gateway',
        'HorizontalPodAutoscaler/marquee-gateway',
        'ScaledObject/marquee-worker',
        'PodDisruptionBudget/marquee-gateway',
        'PodDisruptionBudget/marquee-worker',
        'NetworkPolicy/marquee-default-deny',
        'Job/marquee-migrate',
        'ConfigMap/marquee-config',
        'Ingress/marquee',
      ]),
    );
    expect(results.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'kubernetes overlay dev',
        'docker-compose.yml',
        'Dockerfile deploy/docker/gateway.Dockerfile',
        'Dockerfile deploy/docker/worker.Dockerfile',
        'Dockerfile deploy/docker/worker-gpu.Dockerfile',
      ]),
    );
  });

  describe('fails on broken files', () => {
    let copy: string;
    beforeAll(() => {
      copy = mkdtempSync(join(tmpdir(), 'marquee-deploy-check-'));
      cpSync(join(ROOT, 'deploy'), join(copy, 'deploy'), { recursive: true });
      cpSync(
        join(ROOT, 'docker-compose.yml'),
        join(copy, 'docker-compose.yml'),
      );
      const edit = (file: string, from: string | RegExp, to: string) => {
        const path = join(copy, file);
        const text = readFileSync(path, 'utf8');
        const next = text.replace(from, to);
        if (next === text) throw new Error(`fixture edit missed in ${file}`);
        writeFileSync(path, next);
      };
      edit(
        'deploy/k8s/base/gateway.yaml',
        'containerPort: 8080',
        "containerPort: 'eighty'",
      );
      edit(
        'deploy/k8s/base/gateway.yaml',
        '            - name: PORT\n',
        '            - name: PROT\n',
      );
      edit(
        'deploy/k8s/base/worker.yaml',
        / {10}readinessProbe:\n(.*\n){6}/,
        '',
      );
      edit('docker-compose.yml', / {4}deploy:\n(.*\n){6}/, '');
      edit(
        'docker-compose.yml',
        'stop_grace_period: 40s',
        'stop_grace_period: [40]',
      );
      edit('deploy/docker/worker.Dockerfile', /^USER node$/m, '');
    });
    afterAll(() => rmSync(copy, { recursive: true, force: true }));

    it('names each problem', () => {
      const problems = problemsOf(deployCheck(copy)).join('\n');
      expect(problems).toMatch(
        /Deployment\/marquee-gateway: .*containerPort must be integer/,
      );
      expect(problems).toMatch(
        /marquee-gateway container gateway: sets PROT, which the gateway does not read/,
      );
      expect(problems).toMatch(
        /marquee-worker container worker: no readinessProbe/,
      );
      expect(problems).toMatch(/worker-gpu: no NVIDIA device reservation/);
      expect(problems).toMatch(
        /docker-compose.yml\/services\/gateway\/stop_grace_period: must be string/,
      );
      expect(problems).toMatch(
        /worker.Dockerfile: the final stage does not switch to a non-root USER/,
      );
    });
  });
});
