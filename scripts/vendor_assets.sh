#!/usr/bin/env bash
# Copy the front-end files Tadamun serves from the npm registry into tadamun/static/vendor.
# The copies are committed, so installing and running Tadamun never needs npm or a network.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --ignore-scripts --silent
out=tadamun/static/vendor
rm -rf "$out" && mkdir -p "$out/bootstrap" "$out/htmx" "$out/chartjs"
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.rtl.min.css "$out/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$out/bootstrap/"
cp node_modules/bootstrap/LICENSE "$out/bootstrap/LICENSE"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/"
cp node_modules/htmx.org/LICENSE "$out/htmx/LICENSE"
cp node_modules/chart.js/dist/chart.umd.min.js "$out/chartjs/chart.umd.js"
cp node_modules/chart.js/LICENSE.md "$out/chartjs/LICENSE.md"
for p in bootstrap htmx.org chart.js; do node -p "'$p ' + require('./node_modules/$p/package.json').version"; done > "$out/VERSIONS"
cat "$out/VERSIONS"
