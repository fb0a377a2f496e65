#!/bin/sh
# Evidence of a large file kept, copied out and exported in bounded memory, on SQLite (a data
# folder's vault) and on PostgreSQL (--store: the database's vault): each command's wall time and
# peak resident memory (the maximum resident set size GNU time reports). The file is sparse with
# a marker at the start of every megabyte, so that every chunk differs and is stored.
#
#   URL=$(Benchmarks/postgres-server.sh start)
#   Benchmarks/evidence-memory.sh .build/release/automator "$URL" [MiB, default 2048]
#   Benchmarks/postgres-server.sh stop
set -eu
automator=$(realpath "$1")
store=$2
mib=${3:-2048}
work=$(mktemp -d "${TMPDIR:-/tmp}/automator-evidence-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 - "$work/disk.img" "$mib" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for megabyte in range(int(sys.argv[2])):
        f.seek(megabyte << 20)
        f.write(b"sector %d" % megabyte)
    f.truncate(int(sys.argv[2]) << 20)
PY

measure() {  # label, command...: prints the label, the wall time and the peak resident memory
    label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r seconds kib <"$work/time"
    printf '%-30s %8s s %8d MiB\n' "$label" "$seconds" $((kib / 1024))
}

echo "$mib MiB, $(nproc) cores"
"$automator" incident create --data "$work/data" --title "Disk image" --type forensics --severity high >/dev/null
measure "sqlite: evidence add" "$automator" evidence add INC-1 "$work/disk.img" --data "$work/data"
id=$(cut -d ' ' -f 1 "$work/out")
measure "sqlite: evidence get -o" "$automator" evidence get "$id" -o "$work/copy.img" --data "$work/data"
rm "$work/copy.img"
measure "sqlite: evidence export" "$automator" evidence export INC-1 "$work/bundle.zip" --data "$work/data"
measure "evidence verify" "$automator" evidence verify "$work/bundle.zip"
rm "$work/bundle.zip"
# Last, since a bundle of two such files would pass the 4 GiB a ZIP without ZIP64 holds.
measure "sqlite: the same file again" "$automator" evidence add INC-1 "$work/disk.img" --data "$work/data"
rm -r "$work/data/evidence"

# An incident to keep it on: no command opens one on a store without a server, so by SQL.
"$automator" migrate --store "$store" >/dev/null
incident=INC-$(psql -X -q -A -t -d "$(echo "$store" | sed 's/?.*//')" -c "
    INSERT INTO incident (number, title, type, severity, status, labels, fields, details, created_at, updated_at,
                          alert_count)
    VALUES (nextval('incident_number'), 'Disk image', 'forensics', 'high', 'new', '[]', '{}', '', 0, 0, 1)
    RETURNING number")
measure "postgres: evidence add" "$automator" evidence add "$incident" "$work/disk.img" --store "$store" --data "$work/pg"
id=$(cut -d ' ' -f 1 "$work/out")
measure "postgres: evidence get -o" "$automator" evidence get "$id" -o "$work/copy.img" --store "$store" --data "$work/pg"
rm "$work/copy.img"
measure "postgres: evidence export" "$automator" evidence export "$incident" "$work/bundle.zip" --store "$store" \
    --data "$work/pg"
measure "evidence verify" "$automator" evidence verify "$work/bundle.zip"
rm "$work/bundle.zip"
measure "postgres: the same file again" "$automator" evidence add "$incident" "$work/disk.img" --store "$store" \
    --data "$work/pg"
