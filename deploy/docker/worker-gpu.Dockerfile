# syntax=docker/dockerfile:1
# Marquee GPU worker: ONNX Runtime 1.29 with the CUDA 13 execution provider on an NVIDIA
# CUDA 13 runtime base (cuBLAS, cuDNN 9). The provider library is not in onnxruntime-node's
# npm package; com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 carries it, built for the
# same ONNX Runtime, and it is copied next to libonnxruntime.so.1. Build from the repo root:
#   docker build -f deploy/docker/worker-gpu.Dockerfile -t marquee/worker-gpu .
# Run with the NVIDIA container toolkit (compose: device reservation; Kubernetes: nvidia.com/gpu).
ARG NODE_IMAGE=node:20.19-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04
ARG ORT_PROVIDER_PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9

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
# Marquee's ONNX Runtime addon (KV cache in GPU memory between steps; ORT_RUNTIME=addon):
# node-gyp with Node's headers, linked against this node_modules' libonnxruntime.so.1, the same
# path as in the worker stage.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/* \
 && bash tools/ort-addon/build.sh

FROM base AS cuda-provider
ARG ORT_PROVIDER_PKG
WORKDIR /provider
RUN npm pack --silent "${ORT_PROVIDER_PKG}" \
 && tar xzf ./*.tgz package/Plugins/Linux/x64 \
 && mv package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so \
       package/Plugins/Linux/x64/libonnxruntime_providers_shared.so . \
 && rm -rf package ./*.tgz

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin \
           node_modules/onnxruntime-node/bin/napi-v6/win32 \
           node_modules/onnxruntime-node/bin/napi-v6/linux/arm64 \
 && npm cache clean --force
COPY --from=cuda-provider /provider/ node_modules/onnxruntime-node/bin/napi-v6/linux/x64/

FROM ${CUDA_IMAGE} AS worker
# Node.js from the official image: same binary as the other images, no apt repository needed.
COPY --from=base /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production \
    MODELS_DIR=/models \
    METRICS_PORT=9464 \
    EXECUTION_PROVIDER=cuda \
    ORT_RUNTIME=addon \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN groupadd --system --gid 10001 marquee \
 && useradd --system --uid 10001 --gid marquee --home-dir /app --shell /usr/sbin/nologin marquee \
 && mkdir -p /app /models && chown marquee:marquee /app /models
WORKDIR /app
COPY --from=prod-deps --chown=marquee:marquee /app/node_modules ./node_modules
COPY --from=build --chown=marquee:marquee /app/dist/apps/worker ./dist
COPY --from=build --chown=marquee:marquee /app/native/ort-addon/build/Release/marquee_ort.node ./native/ort-addon/build/Release/
COPY --chown=marquee:marquee package.json ./
USER marquee
VOLUME ["/models"]
EXPOSE 9464
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
