# syntax=docker/dockerfile:1
# Marquee gateway: the OpenAI-compatible API, admin API, dashboard, worker link (gRPC) and
# /health on PORT; /metrics on METRICS_PORT. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t marquee/gateway .
# The `migrate` target is the one-shot migration image (Prisma CLI + the offline engine):
#   docker build -f deploy/docker/gateway.Dockerfile --target migrate -t marquee/migrate .
ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS base
# npm 11 honours package.json "allowScripts" (onnxruntime-node and @prisma/engines only
# download binaries we do not need); the skip flag covers npm versions that do not.
ENV npm_config_onnxruntime_node_install=skip \
    NX_DAEMON=false \
    NX_NO_CLOUD=true
RUN npm install -g npm@11.19.1 && npm cache clean --force
WORKDIR /app

FROM base AS deps
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY tools/prisma-engine ./tools/prisma-engine
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN node node_modules/nx/dist/bin/nx.js run-many -t build -p gateway worker dashboard --outputStyle=static

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32 \
 && npm cache clean --force

# One-shot: `prisma migrate deploy` with the WebAssembly schema engine (no download).
FROM deps AS migrate
ENV NODE_ENV=production
USER node
CMD ["node", "node_modules/prisma/build/index.js", "migrate", "deploy"]

FROM ${NODE_IMAGE} AS gateway
ENV NODE_ENV=production \
    PORT=8080 \
    GRPC_PORT=50051 \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
# The gateway never loads ONNX Runtime: leave its native libraries out.
RUN rm -rf node_modules/onnxruntime-node node_modules/onnxruntime-common
COPY --from=build --chown=node:node /app/dist/apps/gateway ./dist
# The admin dashboard's static files, served at /dashboard/ from beside dist/ (../dashboard).
COPY --from=build --chown=node:node /app/dist/apps/dashboard ./dashboard
COPY --chown=node:node package.json ./
USER node
EXPOSE 8080 50051 9464
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
