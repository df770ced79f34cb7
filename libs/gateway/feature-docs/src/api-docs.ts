import fastifyStatic from '@fastify/static';
import type { INestApplication } from '@nestjs/common';
import { loadPackageSync } from '@nestjs/common/utils/load-package.util.js';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Where the Swagger UI is served; the OpenAPI document is at `${API_DOCS_PATH}/json`. */
export const API_DOCS_PATH = 'docs';

const DESCRIPTION = `Marquee's OpenAI-compatible API (\`/v1\`) and its admin API (\`/admin/v1\`).

- **Auth.** \`/v1\` takes a tenant key (\`Authorization: Bearer mq_...\`). \`/admin/v1\` takes an admin
  token: \`MARQUEE_ADMIN_TOKEN\` (all scopes; manages admin tokens) or a scoped \`mqa_...\` token
  (\`admin:read\`, \`admin:write\`, \`billing\`). Tenant keys get 403 \`permission_error\` there; a
  missing or unknown admin token 401; a token without the route's scope 403 \`insufficient_scope\`.
- **Money** is integer micro-units (1e-6 of the currency). Every BigInt value (money, token sums)
  is a decimal string in JSON; inputs accept a JSON integer or a string of digits, never a fraction.
- **Errors** use OpenAI's shape \`{"error":{"message","type","param","code"}}\`: 400 names the bad
  \`param\`; unknown or malformed ids are 404; refused writes 409.
- **Secrets** (tenant keys, admin tokens) appear only in the response that creates or rotates them.
- Keys of a suspended tenant get 401 \`invalid_api_key\`.`;

/** Serves Swagger UI at `/docs` and the OpenAPI 3 document at `/docs/json`, built on first request. */
export function setupApiDocs(app: INestApplication): void {
  // SwaggerModule loads @fastify/static (the UI's assets) with a dynamic import(), which Jest's
  // CommonJS runtime cannot run; handing Nest's package cache the module makes it load anywhere.
  loadPackageSync('@fastify/static', 'SwaggerModule', () => fastifyStatic);
  const config = new DocumentBuilder()
    .setTitle('Marquee')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'mq_... tenant key' },
      'tenant',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'MARQUEE_ADMIN_TOKEN or an mqa_... admin token',
      },
      'admin',
    )
    .build();
  SwaggerModule.setup(
    API_DOCS_PATH,
    app,
    () => SwaggerModule.createDocument(app, config),
    {
      jsonDocumentUrl: `${API_DOCS_PATH}/json`,
      yamlDocumentUrl: `${API_DOCS_PATH}/yaml`,
    },
  );
}
