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
# A Latin-1 locale for the locale cases (classes above 127), where localedef can make one;
# without it those cases are skipped.
locales=${TMPDIR:-/tmp}/automator-pattern-locales
if [ ! -d "$locales/de_DE.ISO-8859-1" ] && command -v localedef >/dev/null 2>&1; then
    mkdir -p "$locales"
    localedef -i de_DE -f ISO-8859-1 "$locales/de_DE.ISO-8859-1" >/dev/null 2>&1 || true
fi
[ -d "$locales/de_DE.ISO-8859-1" ] && export LOCPATH="$locales"
exec "$out" "$@"
