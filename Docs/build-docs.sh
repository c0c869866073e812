#!/usr/bin/env bash
# Builds the DocC documentation site of the Loom module (API reference from the doc comments,
# plus the articles of Sources/Loom/Loom.docc and Docs/*.md) into .build/docs/site, using only
# the toolchain's own tools: swift-symbolgraph-extract and docc. Fails on any DocC warning,
# such as a ``Symbol`` link that does not resolve or a documented parameter that does not exist.
#
# usage: Docs/build-docs.sh            (then open .build/docs/site/documentation/loom/index.html
#                                       through a static web server)
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --target Loom
bin=$(swift build --show-bin-path)
triple=$(swiftc -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["target"]["triple"])')

out=.build/docs
rm -rf "$out"
mkdir -p "$out/symbol-graphs"
# One catalog: the landing page and articles of Loom.docc, and the guides of Docs/.
cp -R Sources/Loom/Loom.docc "$out/Loom.docc"
cp Docs/*.md Docs/*.svg "$out/Loom.docc/"

swift-symbolgraph-extract -module-name Loom -I "$bin/Modules" -target "$triple" \
    -minimum-access-level public -output-dir "$out/symbol-graphs"
docc convert "$out/Loom.docc" --additional-symbol-graph-dir "$out/symbol-graphs" \
    --fallback-display-name Loom --fallback-bundle-identifier loom.Loom \
    --transform-for-static-hosting --warnings-as-errors --output-path "$out/site"
echo "documentation: $out/site"
