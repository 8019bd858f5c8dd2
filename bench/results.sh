# Sourced by the side-by-side bench scripts: reading RESULT lines (KEY=value pairs), medians, ratios, and peak memory.
# Needs TIME (GNU time's path) and WORK (a scratch folder) set before measured is called.
value() {  # value KEY LINE: the value of KEY=value in a RESULT line, or "-"
  local v; v=$(tr ' ' '\n' <<< "$2" | sed -n "s/^$1=//p" | head -1); echo "${v:--}"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
measured() {  # measured FILE COMMAND...: runs COMMAND under GNU time, appends its RESULT line and peak_rss_mb to FILE
  local file=$1 line; shift
  line=$("$TIME" -f %M -o "$WORK/rss" "$@" | grep '^RESULT') || { echo "no RESULT line from: $*" >&2; exit 1; }
  echo "$line peak_rss_mb=$(awk '{ printf "%.0f", $1 / 1024 }' "$WORK/rss")" | tee -a "$file"
}
