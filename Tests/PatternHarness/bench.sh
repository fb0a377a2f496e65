#!/bin/sh
# Times our pattern functions against stock Lua's on micro-benchmarks and on
# Benchmarks/lua/strings_tables.lua, in one C program that links Lua statically (as Automator
# does) and differs only in the four pattern functions. Prints the median CPU time of REPS runs.
# Usage: Tests/PatternHarness/bench.sh [REPS [CASE...]]   (PATTERN_C=file benchmarks another
# pattern.c, e.g. an older version, against stock)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/automator-pattern-bench
reps=${1:-5}
[ $# -gt 0 ] && shift
cases=${*:-"match_kv find_plain find_plain_miss find_nomagic find_class gsub_short match_trim gmatch_words match_dynamic gsub_big parse_lines strings_tables"}
cc -std=c11 -O2 -Wall -Wextra \
    -I/usr/include/lua5.4 -I"$root/Sources/CLua" -I"$root/Sources/CLua/include" \
    "$root/Tests/PatternHarness/bench.c" "${PATTERN_C:-$root/Sources/CLua/pattern.c}" \
    -o "$out" -l:liblua5.4.a -lm
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-16s %10s %10s %7s\n' case stock_ms ours_ms ratio
for c in $cases; do
    for lib in stock ours; do : >"$out.$lib"; done
    for _ in $(seq "$reps"); do
        for lib in stock ours; do
            if [ "$c" = strings_tables ]; then
                "$out" $lib "$root/Benchmarks/lua/strings_tables.lua" 2>&1 >/dev/null |
                    awk '/^cpu/ { print $2 }' >>"$out.$lib"
            else
                "$out" $lib "$root/Tests/PatternHarness/bench_cases.lua" "$c" 2>/dev/null |
                    awk '{ print $2 }' >>"$out.$lib"
            fi
        done
    done
    s=$(median <"$out.stock"); o=$(median <"$out.ours")
    printf '%-16s %10.1f %10.1f %7.2f\n' "$c" "$s" "$o" "$(echo "$o / $s" | bc -l)"
done
