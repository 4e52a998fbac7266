#!/usr/bin/env bash
# `npm run bench:open-files`: what it costs PostgreSQL when one backend serves more tenants than
# its open-file limit holds. Each tenant request touches the projects table and its three indexes
# (the planner sizes every index), four files; a backend keeps at most max_files_per_process
# (1,000 by default) open, so past ~200-240 tenants per backend each request closes files and
# opens others. pgbench, 4 clients, as the data plane's login: the tenant batch as the data plane
# sends it (set_config of path, timeout, read-only and role, then the list of 20 projects), for a
# tenant drawn at random from the first N of the data-plane bench's database (`npm run bench`
# builds it), one window per N in BENCH_OPEN_FILES_TENANTS. Per window: transactions per second,
# and, when strace is installed, the files one backend opened per transaction.
set -euo pipefail

DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tenancy_bench}"
LOGIN="${DATA_PLANE_DATABASE_USER:-platform_data_plane}"
TENANT_COUNTS="${BENCH_OPEN_FILES_TENANTS:-100 200 400 1000}"
SECONDS_PER_WINDOW="${BENCH_OPEN_FILES_SECONDS:-15}"
ROUNDS="${BENCH_OPEN_FILES_ROUNDS:-2}"
for n in $TENANT_COUNTS; do
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then
    echo "BENCH_OPEN_FILES_TENANTS: \"$n\" is not a positive integer" >&2
    exit 2
  fi
done
login_url="$(node -e 'const u = new URL(process.argv[1]); u.username = process.argv[2]; u.password = ""; console.log(u.toString())' "$DATABASE_URL" "$LOGIN")"
lookup="bench_open_files_$$"
work="$(mktemp -d)"
cleanup() {
  psql "$DATABASE_URL" -q -c "DROP TABLE IF EXISTS public.$lookup" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

max="$(echo $TENANT_COUNTS | tr ' ' '\n' | sort -n | tail -n 1)"
# The tenants by number, for pgbench to draw from (it has no strings of its own).
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE public.$lookup (i int PRIMARY KEY, schema_name text NOT NULL);
INSERT INTO public.$lookup
SELECT row_number() OVER (ORDER BY slug), schema_name FROM platform.tenants t
 WHERE status = 'active' AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = t.schema_name)
 ORDER BY slug LIMIT $max;
GRANT SELECT ON public.$lookup TO $LOGIN;
SQL
found="$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM public.$lookup")"
if [ "$found" -lt "$max" ]; then
  echo "found $found active tenants in $DATABASE_URL, need $max (run npm run bench first)" >&2
  exit 1
fi

echo "max_files_per_process: $(psql "$DATABASE_URL" -Atc 'SHOW max_files_per_process'); $(nproc) cores; ${SECONDS_PER_WINDOW} s windows, ${ROUNDS} rounds"
printf '%-8s %6s %12s %18s\n' round tenants tps 'files opened/tx'
for round in $(seq 1 "$ROUNDS"); do
  for n in $TENANT_COUNTS; do
    cat >"$work/n$n.sql" <<SQL
\\set i random(1, $n)
SELECT schema_name AS s FROM public.$lookup WHERE i = :i \\gset
\\startpipeline
SELECT set_config('search_path', :s, true), set_config('statement_timeout', '5000', true), set_config('transaction_read_only', 'on', true), set_config('role', :s, true);
SELECT id, name, description, created_by AS "createdBy", created_at AS "createdAt" FROM projects ORDER BY created_at DESC, id LIMIT 20 OFFSET 0;
\\endpipeline
SQL
    pgbench "$login_url" -n -M extended -c 4 -j 2 -T "$SECONDS_PER_WINDOW" \
      -f "$work/n$n.sql" >"$work/out" 2>&1 &
    pgbench_pid=$!
    opened='-'
    if command -v strace >/dev/null 2>&1; then
      # Half-way through the window, when every backend has met its tenants: 3 s of one backend.
      sleep $((SECONDS_PER_WINDOW / 2))
      backend="$(psql "$DATABASE_URL" -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND usename = '$LOGIN' LIMIT 1")"
      if [ -n "$backend" ]; then
        counts="$(timeout 3 strace -c -e trace=openat,sendto -p "$backend" 2>&1 || true)"
        opens="$(awk '$NF == "openat" {print $4}' <<<"$counts")"
        sends="$(awk '$NF == "sendto" {print $4}' <<<"$counts")"
        # One answer (sendto) per transaction's pipeline, one per lookup: two per transaction.
        if [ -n "$sends" ] && [ "$sends" -gt 0 ]; then
          opened="$(awk -v o="${opens:-0}" -v s="$sends" 'BEGIN {printf "%.2f", o / (s / 2)}')"
        fi
      fi
    fi
    if ! wait "$pgbench_pid"; then
      echo "pgbench failed over $n tenants:" >&2
      tail -n 5 "$work/out" >&2
      exit 1
    fi
    tps="$(grep -E '^tps' "$work/out" | head -n 1 | sed -E 's/^tps = ([0-9.]+).*/\1/')"
    printf '%-8s %6s %12.0f %18s\n' "$round" "$n" "${tps:-0}" "$opened"
  done
done
