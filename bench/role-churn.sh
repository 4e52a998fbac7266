#!/usr/bin/env bash
# `npm run bench:role-churn`: what the data plane's tenant statement costs PostgreSQL, and what
# role changes elsewhere in the cluster (onboarding creates and grants a role per tenant) do to
# it. pgbench, 10 clients, as the data plane's login: the list-20-projects batch exactly as
# TenantTransactionRunner.query sends it (set_config of path, timeout, read-only and role, then
# the statement, one Sync), spread over BENCH_ROLE_CHURN_SCHEMAS tenants of the data-plane bench's
# database (`npm run bench` builds it). Four windows: quiet; one role created and granted to the
# login per second (what onboarding did before TENANT_ROLE_RESERVE_SIZE); the same number of
# roles made in batches of BENCH_ROLE_CHURN_BATCH per commit (what the worker's TenantRoleUpkeep
# does: createTenantRoles' statements); quiet again. The probe roles are dropped at the end.
set -euo pipefail

DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tenancy_bench}"
LOGIN="${DATA_PLANE_DATABASE_USER:-platform_data_plane}"
SCHEMAS="${BENCH_ROLE_CHURN_SCHEMAS:-120}"
SECONDS_PER_WINDOW="${BENCH_ROLE_CHURN_SECONDS:-20}"
BATCH="${BENCH_ROLE_CHURN_BATCH:-10}"
if ! [[ "$BATCH" =~ ^[0-9]+$ ]] || [ "$BATCH" -lt 1 ] || [ "$BATCH" -gt "$SECONDS_PER_WINDOW" ]; then
  echo "BENCH_ROLE_CHURN_BATCH must be an integer from 1 to BENCH_ROLE_CHURN_SECONDS" >&2
  exit 2
fi
# pgbench takes at most 128 scripts.
if ! [[ "$SCHEMAS" =~ ^[0-9]+$ ]] || [ "$SCHEMAS" -lt 1 ] || [ "$SCHEMAS" -gt 128 ]; then
  echo "BENCH_ROLE_CHURN_SCHEMAS must be an integer from 1 to 128" >&2
  exit 2
fi
login_url="$(node -e 'const u = new URL(process.argv[1]); u.username = process.argv[2]; u.password = ""; console.log(u.toString())' "$DATABASE_URL" "$LOGIN")"

work="$(mktemp -d)"
probe="bench_role_churn_$$"
cleanup() {
  psql "$DATABASE_URL" -qAt -c "SELECT format('DROP ROLE %I;', rolname) FROM pg_roles WHERE rolname LIKE '${probe}_%'" 2>/dev/null |
    psql "$DATABASE_URL" -q >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mapfile -t schemas < <(psql "$DATABASE_URL" -Atc \
  "SELECT schema_name FROM platform.tenants t
    WHERE status = 'active' AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = t.schema_name)
    ORDER BY slug LIMIT $SCHEMAS")
if [ "${#schemas[@]}" -lt "$SCHEMAS" ]; then
  echo "found ${#schemas[@]} active tenants in $DATABASE_URL, need $SCHEMAS (run npm run bench first)" >&2
  exit 1
fi
args=()
for i in "${!schemas[@]}"; do
  s="${schemas[$i]}"
  cat >"$work/t$i.sql" <<SQL
\\startpipeline
SELECT set_config('search_path', '$s', true), set_config('statement_timeout', '5000', true), set_config('transaction_read_only', 'on', true), set_config('role', '$s', true);
SELECT id, name, description, created_by AS "createdBy", created_at AS "createdAt" FROM projects ORDER BY created_at DESC, id LIMIT 20 OFFSET 0;
\\endpipeline
SQL
  args+=(-f "$work/t$i.sql")
done

window() {
  pgbench "$login_url" -n -M extended -c 10 -j 2 -T "$SECONDS_PER_WINDOW" "${args[@]}" 2>&1 |
    grep -E '^tps' | head -n 1 | sed -E 's/^tps = ([0-9.]+).*/\1/'
}

roles="$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = '$LOGIN'")"
echo "role churn: ${#schemas[@]} tenant schemas, 10 clients as $LOGIN (member of $roles roles), ${SECONDS_PER_WINDOW} s windows"
quiet="$(window)"
echo "  quiet                                  $quiet tps"
(
  for i in $(seq 1 "$SECONDS_PER_WINDOW"); do
    psql "$DATABASE_URL" -qc "CREATE ROLE ${probe}_$i NOLOGIN; GRANT ${probe}_$i TO $LOGIN" >/dev/null
    sleep 1
  done
) &
churn="$(window)"
wait
echo "  one role created and granted per second $churn tps"
(
  for round in $(seq 1 $((SECONDS_PER_WINDOW / BATCH))); do
    sql="BEGIN;"
    for i in $(seq 1 "$BATCH"); do
      sql+=" CREATE ROLE ${probe}_b${round}_$i NOLOGIN NOINHERIT; GRANT ${probe}_b${round}_$i TO $LOGIN;"
    done
    psql "$DATABASE_URL" -qc "$sql COMMIT;" >/dev/null
    sleep "$BATCH"
  done
) &
batched="$(window)"
wait
printf '  the same roles, %-3s per commit         %s tps\n' "$BATCH" "$batched"
again="$(window)"
echo "  quiet again                            $again tps"
node -e 'const [q, c, b, a] = process.argv.slice(1).map(Number); const base = (q + a) / 2; console.log(`  one per second / quiet: ${(c / base).toFixed(2)}x; batched / quiet: ${(b / base).toFixed(2)}x`)' "$quiet" "$churn" "$batched" "$again"
