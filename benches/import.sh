#!/usr/bin/env bash
# import.sh -- `gauntlet import nginx-log` on a generated combined log of $SIZE_MB (default 1024):
# prints its lines, the import's lines per second and its peak RSS (from /usr/bin/time -v, else
# from /proc while it runs). The log has 10,000 distinct paths (past the 4,096 groups kept), long
# user agents, a junk line every 100,000 and timestamps over several hours, with --timing original.
#
#   bash benches/import.sh
#   SIZE_MB=200 bash benches/import.sh
#
# Only local files: no traffic at all.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE_MB=${SIZE_MB:-1024}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
[ -x "$GAUNTLET" ] || cargo build --release --locked
W=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-import.XXXXXX")
trap 'rm -rf "$W"' EXIT
python3 - "$W/access.log" "$SIZE_MB" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
written = lines = 0
with open(path, "w", buffering=1 << 20) as f:
    while written < size:
        chunk = []
        for _ in range(10000):
            s = lines // 200
            chunk.append('10.1.%d.%d - - [01/May/2024:%02d:%02d:%02d +0000] "GET /p%d/item/%d?page=%d HTTP/1.1" 200 512 "https://shop.test/" "%s"\n'
                         % (lines % 200, lines % 250, 6 + s // 3600, s // 60 % 60, s % 60, lines % 10000, lines, lines % 7, agent))
            lines += 1
            if lines % 100000 == 0:
                chunk.append("\x16\x03\x01junk\n")
        text = "".join(chunk)
        f.write(text)
        written += len(text)
print(f"generated {written / 1e6:.0f} MB, {lines} request lines", file=sys.stderr)
PY
LINES=$(wc -l < "$W/access.log")
START=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$GAUNTLET" import nginx-log "$W/access.log" --timing original -o "$W/out.yaml" \
    2> "$W/stderr" > /dev/null
  PEAK_KB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/stderr")
else
  "$GAUNTLET" import nginx-log "$W/access.log" --timing original -o "$W/out.yaml" \
    2> "$W/stderr" > /dev/null &
  PID=$! PEAK_KB=0
  while kill -0 "$PID" 2>/dev/null; do
    K=$(sed -n 's/^VmHWM: *\([0-9]*\) kB/\1/p' "/proc/$PID/status" 2>/dev/null || true)
    [ -n "$K" ] && PEAK_KB=$K
    sleep 0.05
  done
  wait "$PID"
fi
END=$(date +%s.%N)
grep -E '^(imported|kept|load|  skipped)' "$W/stderr" || true
python3 - "$LINES" "$START" "$END" "$PEAK_KB" "$(stat -c %s "$W/access.log")" <<'PY'
import sys
lines, start, end, peak_kb, size = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
secs = end - start
print(f"{size / 1e6:.0f} MB, {lines} lines in {secs:.1f} s: {lines / secs:,.0f} lines/s, {size / 1e6 / secs:.0f} MB/s; peak RSS {peak_kb / 1024:.1f} MiB")
PY
