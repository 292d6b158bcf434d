# Start and stop a throwaway PostgreSQL cluster on 127.0.0.1 for tests and
# benchmarks. Sourced by scripts; sets THROWAWAY_POSTGRES_URL.

_pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ]; then
    echo "PostgreSQL server binaries not found under /usr/lib/postgresql; install Debian's postgresql package" >&2
    return 1
  fi
  echo "$dir"
}

start_throwaway_postgres() {
  local bin port
  bin=$(_pg_bin)
  port=${JOHN_PG_PORT:-54329}
  THROWAWAY_PG_DIR=$(mktemp -d /tmp/john-pg.XXXXXX)
  local run=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root; the Debian package creates this user.
    chown postgres "$THROWAWAY_PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$THROWAWAY_PG_DIR/data" -U john -A trust --no-sync >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -l "$THROWAWAY_PG_DIR/log" -w \
    -o "-p $port -k $THROWAWAY_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  THROWAWAY_PG_BIN=$bin
  THROWAWAY_PG_RUN=("${run[@]}")
  THROWAWAY_POSTGRES_URL="postgresql://john@127.0.0.1:$port/postgres"
  export THROWAWAY_POSTGRES_URL
}

stop_throwaway_postgres() {
  if [ -n "${THROWAWAY_PG_DIR:-}" ]; then
    "${THROWAWAY_PG_RUN[@]}" "$THROWAWAY_PG_BIN/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$THROWAWAY_PG_DIR"
  fi
}
