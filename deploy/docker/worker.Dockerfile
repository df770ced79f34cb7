# syntax=docker/dockerfile:1
# Marquee CPU worker: runs models on ONNX Runtime's CPU provider. Serves only
# /metrics and /health on METRICS_PORT. Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t marquee/worker .
ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV npm_config_onnxruntime_node_install=skip \
    NX_DAEMON=false \
    NX_NO_CLOUD=true
RUN npm install -g npm@11.19.1 && npm cache clean --force
WORKDIR /app

FROM base AS build
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY tools/prisma-engine ./tools/prisma-engine
RUN npm ci --no-audit --no-fund
COPY . .
RUN node node_modules/nx/dist/bin/nx.js run worker:build --outputStyle=static

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32 \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS worker
ENV NODE_ENV=production \
    MODELS_DIR=/models \
    METRICS_PORT=9464 \
    EXECUTION_PROVIDER=cpu
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist/apps/worker ./dist
COPY --chown=node:node package.json ./
RUN mkdir -p /models && chown node:node /models
USER node
VOLUME ["/models"]
EXPOSE 9464
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
