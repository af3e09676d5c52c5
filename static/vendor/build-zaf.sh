#!/usr/bin/env bash
# Rebuild static/vendor/zaf_sdk.min.js from the npm registry: the Zendesk App Framework SDK
# (Apache-2.0, CommonJS sources only) bundled with esbuild into one IIFE exposing window.ZAFClient.
# Pinned versions; run by hand when upgrading, then commit the result and update static/vendor/README.md.
set -euo pipefail
ZAF_VERSION=2.0.11
ESBUILD_VERSION=0.25.0
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "zendesk_app_framework_sdk@$ZAF_VERSION" >/dev/null
tar xzf "zendesk_app_framework_sdk-$ZAF_VERSION.tgz"
npm install --no-save --silent "esbuild@$ESBUILD_VERSION" >/dev/null
node_modules/.bin/esbuild package/lib/index.js --bundle --minify --format=iife --global-name=ZAFClient \
  --banner:js="/* Zendesk App Framework SDK $ZAF_VERSION (Apache-2.0), bundled by static/vendor/build-zaf.sh */" \
  --outfile="$root/static/vendor/zaf_sdk.min.js"
cp package/LICENSE "$root/static/vendor/zaf_sdk.LICENSE"
sha256sum "$root/static/vendor/zaf_sdk.min.js"
