#!/usr/bin/env bash
# Coverage-guided fuzzing of one Backprop reader with AFL++ through SharpFuzz (bench/fuzz/README.md).
#   bench/fuzz/run.sh <target> [seconds]        e.g. bench/fuzz/run.sh idx-gzip 600
#   bench/fuzz/run.sh count [count options]     the mutation count (no AFL), e.g. count --n 10000 --out /tmp/fuzz-failures
# Needs: afl++ (apt-get install -y afl++), the sharpfuzz tool (dotnet tool install --global SharpFuzz.CommandLine).
# Writes under bench/fuzz/out/<target>/ (seeds, AFL's findings); crashes are in findings/default/crashes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${1:?usage: run.sh <target> [seconds] | run.sh count [options]}"
seconds="${2:-600}"
bin="$here/Backprop.Fuzz/bin/Release/net10.0"

dotnet build "$here/Backprop.Fuzz" -c Release -nologo -v q
if [[ "$target" == count ]]; then
  shift
  exec dotnet "$bin/Backprop.Fuzz.dll" count "$@"
fi

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install -y afl++" >&2; exit 1; }
sharpfuzz="$(command -v sharpfuzz || echo "$HOME/.dotnet/tools/sharpfuzz")"
[[ -x "$sharpfuzz" ]] || { echo "sharpfuzz not found: dotnet tool install --global SharpFuzz.CommandLine" >&2; exit 1; }

# Instrument a copy of the build so the normal build stays uninstrumented. Only Backprop's own assemblies
# are instrumented: coverage of the readers, not of the runtime or of protobuf/SkiaSharp internals.
work="$root/bench/fuzz/out/$target"
rm -rf "$work/bin" && mkdir -p "$work" && cp -r "$bin" "$work/bin"
for dll in Backprop Backprop.Caffe Backprop.Vision Backprop.Keras Backprop.Detection; do
  "$sharpfuzz" "$work/bin/$dll.dll" >/dev/null
done

rm -rf "$work/seeds" && dotnet "$work/bin/Backprop.Fuzz.dll" seeds "$target" "$work/seeds"
# AFL's own timeout (-t, ms) is above the harness's 5 s hang limit, so a hang is reported by the harness as a crash
# with its message. -m none: .NET reserves far more virtual memory than AFL's default limit.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1
afl-fuzz -i "$work/seeds" -o "$work/findings" -t 10000 -m none -V "$seconds" -- dotnet "$work/bin/Backprop.Fuzz.dll" afl "$target" || true
crashes=("$work"/findings/default/crashes/id*)
echo "$target: $(ls "$work"/findings/default/queue | wc -l) inputs in the queue, ${#crashes[@]} crashes in $work/findings/default/crashes"
for c in "${crashes[@]}"; do [[ -e "$c" ]] && dotnet "$bin/Backprop.Fuzz.dll" replay "$target" "$c" || true; done
