#!/usr/bin/env bash
# Copies the web UI's third-party libraries, at the versions package-lock.json pins, from
# the npm registry into the package (src/roost/web/static/vendor), so that `pip install`
# alone gives a working UI with nothing fetched at run time. Run it after changing
# package.json; commit what it writes.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../src/roost/web/static/vendor
rm -rf "$out" && mkdir -p "$out"
cp node_modules/marked/lib/marked.esm.js "$out/marked.esm.js"
cp node_modules/marked/LICENSE "$out/marked.LICENSE"
cp node_modules/dompurify/dist/purify.es.mjs "$out/purify.es.mjs"
cp node_modules/dompurify/LICENSE "$out/dompurify.LICENSE"
cp node_modules/@highlightjs/cdn-assets/es/highlight.min.js "$out/highlight.min.js"
cp node_modules/@highlightjs/cdn-assets/LICENSE "$out/highlight.LICENSE"
