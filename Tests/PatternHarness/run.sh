#!/bin/sh
# Builds the differential pattern harness into /tmp and runs it against stock Lua 5.4.
# Usage: Tests/PatternHarness/run.sh [fuzz-rounds [fuzz-seed]]   (defaults: 20000, fixed seed)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/automator-pattern-diff
cc -std=c11 -O2 -Wall -Wextra \
    -I/usr/include/lua5.4 -I"$root/Sources/CLua" -I"$root/Sources/CLua/include" \
    "$root/Tests/PatternHarness/pattern_diff.c" "$root/Sources/CLua/pattern.c" \
    -o "$out" -llua5.4
exec "$out" "$@"
