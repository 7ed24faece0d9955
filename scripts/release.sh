#!/usr/bin/env bash
# Builds what a deployment takes to an air-gapped machine (docs/deployment.md): the console, the
# `npm pack` tarball, its CycloneDX SBOM (runtime dependencies) and SHA-256 sums, in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build >/dev/null
rm -rf dist && mkdir -p dist
tarball="$(npm pack --silent --pack-destination dist)"
version="$(node -p 'require("./package.json").version')"
npm sbom --sbom-format cyclonedx --omit dev > "dist/hotline-$version.cdx.json"
node -e '
  const bom = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (bom.bomFormat !== "CycloneDX" || !bom.components?.length) throw new Error("empty SBOM");
  console.log(`SBOM: ${bom.components.length} components (CycloneDX ${bom.specVersion})`);
' "dist/hotline-$version.cdx.json"
(cd dist && sha256sum "$tarball" "hotline-$version.cdx.json" > SHA256SUMS)
echo "dist/$tarball: $(tar -tzf "dist/$tarball" | wc -l) files"
cat dist/SHA256SUMS
