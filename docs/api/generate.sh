#!/usr/bin/env bash
# Generates the API reference (Markdown, one page per type) from the libraries' XML documentation comments.
# Needs docfx:  dotnet tool install docfx --version 2.81.0 --tool-path /tmp/docfx   (or DOCFX=path/to/docfx)
# Usage: bash docs/api/generate.sh        (writes docs/api/reference/; run from anywhere)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
docfx="${DOCFX:-$(command -v docfx || echo /tmp/docfx/docfx)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Build into a separate artifacts folder, so the XML docs switch does not touch the usual bin/ and obj/ folders.
# Warnings are not errors here: a malformed doc comment (CS1574, CS1584) is listed and the reference still generated.
for project in Backprop Backprop.Caffe Backprop.Vision Backprop.Detection Backprop.Keras Backprop.Viz Backprop.Distributed; do
  dotnet build "$root/src/$project/$project.csproj" -c Release --artifacts-path "$work/artifacts" \
    -p:GenerateDocumentationFile=true -p:NoWarn=CS1591 -p:TreatWarningsAsErrors=false -p:CopyLocalLockFileAssemblies=true -nologo -v q | { grep -E "warning CS15|error" | sort -u || true; }
done
mkdir -p "$work/lib"
for project in Backprop Backprop.Caffe Backprop.Vision Backprop.Detection Backprop.Keras Backprop.Viz Backprop.Distributed; do
  cp "$work/artifacts/bin/$project/release/$project.dll" "$work/artifacts/bin/$project/release/$project.xml" "$work/lib/"
done
# The libraries' dependencies (copied by CopyLocalLockFileAssemblies), so docfx resolves the types in public signatures.
cp -n "$work"/artifacts/bin/*/release/*.dll "$work/lib/" 2>/dev/null || true

cat > "$work/docfx.json" <<JSON
{ "metadata": [ { "src": [ { "src": "lib", "files": [
    "Backprop.dll", "Backprop.Caffe.dll", "Backprop.Vision.dll", "Backprop.Detection.dll",
    "Backprop.Keras.dll", "Backprop.Viz.dll", "Backprop.Distributed.dll" ] } ],
  "dest": "out", "outputFormat": "markdown", "namespaceLayout": "flattened" } ] }
JSON
(cd "$work" && "$docfx" metadata docfx.json --logLevel warning)
rm -rf "$root/docs/api/reference"
mkdir -p "$root/docs/api/reference"
cp -r "$work/out/." "$root/docs/api/reference/"
echo "Wrote $(find "$root/docs/api/reference" -type f | wc -l) files ($(du -sh "$root/docs/api/reference" | cut -f1)) to docs/api/reference/"
