#!/usr/bin/env bash
# Checks every benchmark's command line without measuring anything. For each executable target
# in Package.swift: `--help` exits 0 and shows what it measures, a goal, an example, and a
# default for every option that has one; an unknown option, a missing value, a malformed value
# and a zero count each exit 2 with `error: ...` naming the option. Every call stops at the
# options, before any setup; one that gets further is stopped after 30 s and counted a failure.
#
#   swift build -c release --package-path Benchmarks
#   Benchmarks/check-options.sh [BUILD_FOLDER]      # default: Benchmarks/.build/release
#
# Exit status 0 when every check passes, 1 otherwise; each failure is printed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/.build/release}
scratch=$(mktemp -d /tmp/check-options-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
failures=0

fail() {
    echo "FAIL $name: $*"
    failures=$((failures + 1))
}

# Runs the benchmark with these arguments; sets status, out and err.
call() {
    out=$(timeout 30 "$build/$name" "$@" 2>"$scratch/err")
    status=$?
    err=$(cat "$scratch/err")
}

# Expects status 2 and a first line `error: ...` naming $1, from the arguments after it (the
# benchmark's required options put first, so that the check reaches the option it is about).
refused() {
    local option=$1
    shift
    call "${required[@]}" "$@"
    if [[ $status != 2 ]]; then
        fail "$* exited $status, not 2"
    elif [[ ${err%%$'\n'*} != "error: "*"$option"* ]]; then
        fail "$*: the error does not name $option: ${err%%$'\n'*}"
    fi
}

names=$(sed -n '/\.executableTarget(/{n;s/.*name: "\(.*\)".*/\1/p;}' "$here/Package.swift")
[[ -n $names ]] || { echo "no executable targets found in $here/Package.swift"; exit 1; }
for name in $names; do
    if [[ ! -x $build/$name ]]; then
        fail "no executable at $build/$name: build the package first (swift build -c release --package-path Benchmarks)"
        continue
    fi
    before=$failures
    required=()
    call --help
    help=$out
    [[ $status == 0 ]] || fail "--help exited $status, not 0"
    for part in OVERVIEW: Example: USAGE: OPTIONS:; do
        [[ $help == *"$part"* ]] || fail "--help has no $part"
    done
    grep -qi goal <<<"$help" || fail "--help states no goal"

    # The options outside brackets in the usage line are required: given a placeholder below.
    usage=$(grep '^USAGE:' <<<"$help")
    for option in $(sed 's/\[[^]]*\]//g' <<<"$usage" | grep -o -- '--[a-z0-9-]*'); do
        required+=("$option" placeholder)
    done
    # Each option's entry in the help on one line: "--name <value> what it is (default: ...)".
    entries=$(awk '/^OPTIONS:/ { on = 1; next }
                   on && /^  -/ { if (entry) print entry; entry = $0; next }
                   on && /^   / { entry = entry " " $0 }
                   END { if (entry) print entry }' <<<"$help" | tr -s ' ')
    counted=""
    while read -r option value rest; do
        [[ $option == --* && $value == "<"* ]] || continue  # -h, --help; flags
        [[ " ${required[*]} " == *" $option "* ]] && continue
        [[ $rest == *default* ]] || fail "$option shows no default"
        if [[ -z $counted && $rest =~ \(default:\ [0-9]+\) ]]; then counted=$option; fi
    done <<<"$entries"

    refused --no-such-option --no-such-option
    if [[ -n $counted ]]; then
        refused "$counted" "$counted"
        refused "$counted" "$counted" many
        refused "$counted" "$counted" 0
    fi
    if ((${#required[@]} > 0)); then
        call
        if [[ $status != 2 || ${err%%$'\n'*} != "error: "*"${required[0]}"* ]]; then
            fail "without ${required[0]}: status $status, ${err%%$'\n'*}"
        fi
    fi
    ((failures == before)) && echo "ok   $name${counted:+ (values of $counted)}"
done

if ((failures > 0)); then
    echo "$failures failed"
    exit 1
fi
echo "every benchmark's options checked"
