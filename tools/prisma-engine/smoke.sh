#!/usr/bin/env bash
# Smoke test for the offline schema engine stand-in: runs the real Prisma CLI against a scratch
# database that does not exist yet, then drops it. Needs PostgreSQL reachable as PG_ADMIN_URL's
# server (default postgresql://postgres@127.0.0.1:5432). Takes ~15 s.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVER_URL="${PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432}"
DB="marquee_prisma_smoke_$$"
export DATABASE_URL="$SERVER_URL/$DB"

sql() { node -e '
  const { Client } = require("pg");
  const c = new Client({ connectionString: process.argv[1] });
  c.connect().then(() => c.query(process.argv[2])).then((r) => { for (const row of r.rows) console.log(Object.values(row).join("|")); return c.end(); })
   .catch((e) => { console.error(e.message); process.exit(1); });' "$SERVER_URL/postgres" "$1"; }
cleanup() { sql "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "$out" >&2; exit 1; }

step() { echo "--- prisma $*"; out="$(npx prisma "$@" 2>&1)" || fail "prisma $* exited $?"; }

step migrate deploy
grep -q "database $DB created" <<<"$out" || fail "deploy did not create the database"
grep -q "All migrations have been successfully applied" <<<"$out" || fail "deploy applied nothing"
step migrate status
grep -q "Database schema is up to date" <<<"$out" || fail "status not up to date"
step migrate deploy
grep -q "No pending migrations to apply" <<<"$out" || fail "second deploy was not a no-op"
# the migrations produce exactly the schema (uses a shadow database) and the database matches it
step migrate diff --from-migrations prisma/migrations --to-schema prisma/schema.prisma --exit-code
step migrate diff --from-config-datasource --to-schema prisma/schema.prisma --exit-code
step migrate reset --force
grep -q "Database reset successful" <<<"$out" || fail "reset failed"
step generate
leftover="$(sql "SELECT count(*) FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'")"
[ "$leftover" = 0 ] || { out=""; fail "$leftover shadow database(s) left behind"; }
echo "OK: prisma schema engine stand-in works ($DB dropped)"
