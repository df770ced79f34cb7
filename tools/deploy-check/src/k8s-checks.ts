/**
 * Validates rendered manifests: each against its Kubernetes 1.3x OpenAPI schema (the
 * kubernetes-models package; KEDA's CRD schema from @kubernetes-models/keda), then Marquee's own
 * rules: probes, resources and non-root on every container, GPUs for workers in production,
 * references that resolve (ConfigMaps, Secrets, PVCs, scale targets, Service selectors),
 * a PodDisruptionBudget per Deployment, default-deny NetworkPolicy, env names the apps know.
 */
import type { Manifest } from './kustomize-lite';

type Obj = Record<string, unknown>;
type Validatable = { validate(): void };
type ModelClass = new (data: unknown) => Validatable;

const MODULES: Record<string, string> = {
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
};

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  const path =
    MODULES[apiVersion] ??
    (apiVersion.includes('/')
      ? `kubernetes-models/${apiVersion}`
      : `kubernetes-models/v1`);
  const module = (await import(`${path}/${kind}`)) as Record<
    string,
    ModelClass
  >;
  const model = module[kind];
  if (!model) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return model;
}

export interface K8sCheckOptions {
  /** Env names each app reads (from its zod schema); other names in its pods are errors. */
  envNames: { gateway: string[]; worker: string[] };
  /** Secrets created outside the render (prod: by a secret manager). */
  externalSecrets: string[];
  /** Workers must request nvidia.com/gpu. */
  requireGpu: boolean;
}

const EXTRA_ENV = new Set(['POD_IP', 'NODE_ENV', 'NODE_OPTIONS']);

export async function checkManifests(
  manifests: Manifest[],
  options: K8sCheckOptions,
): Promise<string[]> {
  const problems: string[] = [];
  const id = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const names = (kind: string) =>
    new Set(byKind(kind).map((m) => m.metadata.name));

  const seen = new Set<string>();
  for (const m of manifests) {
    if (seen.has(id(m))) problems.push(`${id(m)}: defined twice`);
    seen.add(id(m));
    try {
      const Model = await modelFor(m.apiVersion, m.kind);
      new Model(m).validate();
    } catch (error) {
      problems.push(`${id(m)}: ${(error as Error).message}`);
    }
  }

  const configMaps = names('ConfigMap');
  const secrets = new Set([...names('Secret'), ...options.externalSecrets]);
  const claims = names('PersistentVolumeClaim');
  const deployments = byKind('Deployment');
  const pdbs = byKind('PodDisruptionBudget');
  const configData = (name: string) =>
    Object.keys(
      (manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name)
        ?.data ?? {}) as Obj,
    );

  const podSpecs: { owner: Manifest; spec: Obj; labels: Obj }[] = [];
  for (const m of manifests) {
    const spec = m.spec as Obj | undefined;
    const template = spec?.template as Obj | undefined;
    if (template) {
      podSpecs.push({
        owner: m,
        spec: template.spec as Obj,
        labels: ((template.metadata as Obj)?.labels ?? {}) as Obj,
      });
    }
  }

  for (const { owner, spec } of podSpecs) {
    const where = id(owner);
    const app = String(owner.metadata.name).replace(/^marquee-/, '');
    const known =
      app === 'gateway'
        ? options.envNames.gateway
        : app === 'worker'
          ? options.envNames.worker
          : null;
    const securityContext = (spec.securityContext ?? {}) as Obj;
    for (const container of (spec.containers ?? []) as Obj[]) {
      const cwhere = `${where} container ${String(container.name)}`;
      const image = String(container.image ?? '');
      if (!/:[\w.-]+$/.test(image))
        problems.push(`${cwhere}: image ${image} has no tag`);
      const resources = (container.resources ?? {}) as Obj;
      if (!resources.requests) problems.push(`${cwhere}: no resource requests`);
      if (!(resources.limits as Obj | undefined)?.memory)
        problems.push(`${cwhere}: no memory limit`);
      if (
        owner.kind === 'Deployment' &&
        owner.metadata.name.startsWith('marquee-')
      ) {
        if (!container.readinessProbe)
          problems.push(`${cwhere}: no readinessProbe`);
        if (!container.livenessProbe)
          problems.push(`${cwhere}: no livenessProbe`);
      }
      if (known) {
        if (securityContext.runAsNonRoot !== true)
          problems.push(`${cwhere}: pod does not set runAsNonRoot`);
        // Set on the container: this app must read it. From the shared ConfigMap: either app.
        for (const env of (container.env ?? []) as Obj[]) {
          const name = String(env.name);
          if (!known.includes(name) && !EXTRA_ENV.has(name))
            problems.push(
              `${cwhere}: sets ${name}, which the ${app} does not read`,
            );
        }
        for (const from of (container.envFrom ?? []) as Obj[]) {
          const ref = from.configMapRef as Obj | undefined;
          if (!ref) continue;
          for (const name of configData(String(ref.name)))
            if (!configShared(name, options))
              problems.push(
                `${cwhere}: ConfigMap sets ${name}, which no app reads`,
              );
        }
        if (app === 'worker' && options.requireGpu) {
          const gpu = ((resources.limits ?? {}) as Obj)['nvidia.com/gpu'];
          if (!gpu) problems.push(`${cwhere}: no nvidia.com/gpu limit`);
        }
      }
      for (const from of (container.envFrom ?? []) as Obj[]) {
        const cm = (from.configMapRef as Obj | undefined)?.name;
        const secret = (from.secretRef as Obj | undefined)?.name;
        if (cm && !configMaps.has(String(cm)))
          problems.push(`${cwhere}: ConfigMap ${String(cm)} missing`);
        if (secret && !secrets.has(String(secret)))
          problems.push(`${cwhere}: Secret ${String(secret)} missing`);
      }
      for (const env of (container.env ?? []) as Obj[]) {
        const ref = (
          (env.valueFrom as Obj | undefined)?.secretKeyRef as Obj | undefined
        )?.name;
        if (ref && !secrets.has(String(ref)))
          problems.push(`${cwhere}: Secret ${String(ref)} missing`);
      }
    }
    for (const volume of (spec.volumes ?? []) as Obj[]) {
      const claim = (volume.persistentVolumeClaim as Obj | undefined)
        ?.claimName;
      if (claim && !claims.has(String(claim)))
        problems.push(`${where}: PVC ${String(claim)} missing`);
    }
  }

  const matches = (selector: Obj, labels: Obj) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);
  for (const deployment of deployments) {
    const labels = (((deployment.spec as Obj).template as Obj).metadata as Obj)
      .labels as Obj;
    if (
      deployment.metadata.name.startsWith('marquee-') &&
      ['marquee-gateway', 'marquee-worker'].includes(deployment.metadata.name)
    ) {
      const covered = pdbs.some((p) =>
        matches(
          (((p.spec as Obj).selector as Obj).matchLabels ?? {}) as Obj,
          labels,
        ),
      );
      if (!covered) problems.push(`${id(deployment)}: no PodDisruptionBudget`);
    }
  }
  for (const service of byKind('Service')) {
    const selector = ((service.spec as Obj).selector ?? {}) as Obj;
    if (!podSpecs.some((p) => matches(selector, p.labels)))
      problems.push(`${id(service)}: selector matches no pod template`);
  }
  const deploymentNames = new Set(deployments.map((d) => d.metadata.name));
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const target = String(((hpa.spec as Obj).scaleTargetRef as Obj).name);
    if (!deploymentNames.has(target))
      problems.push(`${id(hpa)}: target ${target} missing`);
  }
  for (const so of byKind('ScaledObject')) {
    const target = String(((so.spec as Obj).scaleTargetRef as Obj).name);
    if (!deploymentNames.has(target))
      problems.push(`${id(so)}: target ${target} missing`);
  }
  const denyAll = byKind('NetworkPolicy').some((np) => {
    const spec = np.spec as Obj;
    return (
      Object.keys((spec.podSelector ?? {}) as Obj).length === 0 &&
      !spec.ingress &&
      ((spec.policyTypes ?? []) as string[]).includes('Ingress')
    );
  });
  if (!denyAll) problems.push('no default-deny NetworkPolicy');
  return problems;
}

/** Settings in the shared ConfigMap that only one of the two apps reads. */
function configShared(name: string, options: K8sCheckOptions): boolean {
  return (
    options.envNames.gateway.includes(name) ||
    options.envNames.worker.includes(name)
  );
}
