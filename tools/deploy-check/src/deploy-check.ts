/**
 * `npm run deploy:check`: validates deploy/ without a cluster or a Docker engine. Renders the
 * Kustomize overlays and validates every manifest, validates docker-compose.yml against the
 * Compose specification, lints the Dockerfiles. Prints one line per check; `--json` prints the
 * report as JSON (the Jest spec reads it). Exits 1 when anything fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gatewayEnvSchema } from '@marquee/gateway/util-config';
import { workerEnvSchema } from '@marquee/worker/util-config';
import { checkCompose } from './compose-check';
import { lintDockerfile } from './dockerfile-check';
import { checkManifests } from './k8s-checks';
import { render } from './kustomize-lite';

/** The tree to check; DEPLOY_CHECK_ROOT lets the spec check a deliberately broken copy. */
const ROOT =
  process.env.DEPLOY_CHECK_ROOT ??
  resolve(import.meta.dirname, '..', '..', '..');

export interface CheckResult {
  name: string;
  /** What was checked (manifest ids, services, files). */
  items: string[];
  problems: string[];
}

async function main(): Promise<void> {
  const envNames = {
    gateway: Object.keys(gatewayEnvSchema.shape),
    worker: Object.keys(workerEnvSchema.shape),
  };
  const results: CheckResult[] = [];
  const overlays = join(ROOT, 'deploy', 'k8s', 'overlays');
  for (const overlay of readdirSync(overlays).sort()) {
    const name = `kubernetes overlay ${overlay}`;
    try {
      const manifests = render(join(overlays, overlay));
      const problems = await checkManifests(manifests, {
        envNames,
        externalSecrets: overlay === 'prod' ? ['marquee-secrets'] : [],
        requireGpu: overlay === 'prod',
      });
      results.push({
        name,
        items: manifests.map((m) => `${m.kind}/${m.metadata.name}`),
        problems,
      });
    } catch (error) {
      results.push({ name, items: [], problems: [(error as Error).message] });
    }
  }
  results.push({
    name: 'docker-compose.yml',
    items: ['compose specification schema', 'references', 'environment'],
    problems: checkCompose(ROOT, envNames),
  });
  const dockerDir = join(ROOT, 'deploy', 'docker');
  for (const file of readdirSync(dockerDir)
    .filter((f) => f.endsWith('.Dockerfile'))
    .sort()) {
    const path = join(dockerDir, file);
    results.push({
      name: `Dockerfile ${relative(ROOT, path)}`,
      items: [file],
      problems: lintDockerfile(path).map((p) => p.replace(`${ROOT}/`, '')),
    });
  }

  results.push(checkDashboard());

  if (process.argv.includes('--json'))
    process.stdout.write(`${JSON.stringify(results)}\n`);
  else
    for (const result of results) {
      const status = result.problems.length === 0 ? 'ok  ' : 'FAIL';
      console.log(`${status} ${result.name} (${result.items.length} checked)`);
      for (const problem of result.problems) console.log(`     - ${problem}`);
    }
  if (results.some((r) => r.problems.length > 0)) process.exitCode = 1;
}

/** Every metric the Grafana dashboard and the KEDA trigger query is one the apps define. */
function checkDashboard(): CheckResult {
  // The metric definitions are code, not deploy files: always read them from this checkout.
  const source = join(
    import.meta.dirname,
    '..',
    '..',
    '..',
    'libs',
    'shared',
    'util-observability',
    'src',
  );
  const defined = new Set(
    readdirSync(source)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [
          ...readFileSync(join(source, f), 'utf8').matchAll(
            /name: '(marquee_\w+)'/g,
          ),
        ].map((m) => m[1]),
      ),
  );
  const file = join(ROOT, 'deploy', 'grafana', 'marquee-dashboard.json');
  const problems: string[] = [];
  const texts: string[] = [];
  try {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    for (const panel of dashboard.panels)
      for (const target of panel.targets)
        texts.push(`panel "${panel.title}": ${target.expr}`);
  } catch (error) {
    problems.push(`${file}: ${(error as Error).message}`);
  }
  const keda = readFileSync(
    join(ROOT, 'deploy', 'k8s', 'base', 'worker-scaledobject.yaml'),
    'utf8',
  );
  texts.push(`KEDA trigger: ${keda}`);
  for (const text of texts)
    for (const [name] of text.matchAll(/marquee_\w+/g)) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      if (!defined.has(base) && !defined.has(name))
        problems.push(`${text.split(':')[0]}: unknown metric ${name}`);
    }
  return { name: 'Grafana dashboard and KEDA query', items: texts, problems };
}

main().catch((error: unknown) => {
  console.error(`deploy-check: ${(error as Error).message}`);
  process.exit(2);
});
