/**
 * A small Kustomize renderer for the features deploy/k8s uses (no kustomize binary on npm):
 * `resources` (files and directories with a kustomization.yaml), `namespace`, `labels`
 * (metadata only), `images`, `replicas`, and strategic-merge `patches` (maps merge, lists of
 * named items merge by `name`, `null` deletes a key). Anything else in a kustomization is an
 * error, so a manifest can never rely on a feature this renderer silently ignores.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
  };
};

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'replicas',
  'patches',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function readYamlDocuments(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0)
      throw new Error(
        `${file}: ${doc.errors.map((e) => e.message).join('; ')}`,
      );
    const value = doc.toJS() as unknown;
    return value === null || value === undefined ? [] : [value as Obj];
  });
}

/** Strategic merge as far as these manifests need it. */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (isObj(base) && isObj(patch)) {
    const out: Obj = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in base ? strategicMerge(base[key], value) : value;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (list: unknown[]) =>
      list.every((item) => isObj(item) && typeof item.name === 'string');
    if (named(base) && named(patch)) {
      const out = base.map((item) => {
        const match = patch.find((p) => (p as Obj).name === (item as Obj).name);
        return match ? strategicMerge(item, match) : item;
      });
      for (const item of patch)
        if (!base.some((b) => (b as Obj).name === (item as Obj).name))
          out.push(item);
      return out;
    }
    return patch;
  }
  return patch;
}

function setImages(node: unknown, images: Obj[]): void {
  if (Array.isArray(node)) return node.forEach((n) => setImages(n, images));
  if (!isObj(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (
      (key === 'containers' || key === 'initContainers') &&
      Array.isArray(value)
    ) {
      for (const container of value as Obj[]) {
        const image = String(container.image ?? '');
        const [name, tag] = image.split(':');
        const rule = images.find((i) => i.name === name);
        if (rule)
          container.image = `${String(rule.newName ?? name)}:${String(rule.newTag ?? tag ?? 'latest')}`;
      }
    } else setImages(value, images);
  }
}

/** Renders the kustomization in `dir` to a list of manifests. */
export function render(dir: string): Manifest[] {
  const file = join(dir, 'kustomization.yaml');
  const [k] = readYamlDocuments(file);
  for (const key of Object.keys(k))
    if (!SUPPORTED.has(key))
      throw new Error(`${file}: "${key}" is not supported by kustomize-lite`);

  let out: Manifest[] = [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    const path = resolve(dir, entry);
    if (!existsSync(path))
      throw new Error(`${file}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) out.push(...render(path));
    else out.push(...(readYamlDocuments(path) as Manifest[]));
  }

  for (const patch of (k.patches as { path: string }[] | undefined) ?? []) {
    const patchFile = resolve(dir, patch.path);
    for (const doc of readYamlDocuments(patchFile)) {
      const meta = doc.metadata as Obj;
      const index = out.findIndex(
        (m) => m.kind === doc.kind && m.metadata.name === meta.name,
      );
      if (index < 0)
        throw new Error(
          `${patchFile}: no ${String(doc.kind)} ${String(meta.name)} to patch`,
        );
      out[index] = strategicMerge(out[index], doc) as Manifest;
    }
  }

  for (const rule of (k.replicas as
    | { name: string; count: number }[]
    | undefined) ?? []) {
    const target = out.find(
      (m) => m.metadata.name === rule.name && isObj(m.spec),
    );
    if (!target)
      throw new Error(`${file}: replicas names unknown ${rule.name}`);
    (target.spec as Obj).replicas = rule.count;
  }

  const images = (k.images as Obj[] | undefined) ?? [];
  if (images.length > 0) out.forEach((m) => setImages(m, images));

  for (const group of (k.labels as
    | { pairs: Record<string, string> }[]
    | undefined) ?? [])
    out = out.map((m) => ({
      ...m,
      metadata: {
        ...m.metadata,
        labels: { ...m.metadata.labels, ...group.pairs },
      },
    }));

  if (typeof k.namespace === 'string') {
    const namespace = k.namespace;
    out = out.map((m) =>
      m.kind === 'Namespace'
        ? m
        : { ...m, metadata: { ...m.metadata, namespace } },
    );
  }
  return out;
}
