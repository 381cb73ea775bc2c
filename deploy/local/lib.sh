# Shared by deploy/local/run.sh and tests/run.sh: package installation, the build, and a
# private PostgreSQL cluster run by an unprivileged user. Source it; do not run it.

CDP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CDP_BUILD_DIR=${CDP_BUILD_DIR:-$CDP_ROOT/build}
PG_BIN=/usr/lib/postgresql/15/bin
PG_OS_USER=cdp-postgres

# Debian packages the platform needs to build, run and test.
CDP_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git openssl ca-certificates curl
  iproute2 procps
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev grpc-proto
  libpqxx-dev libpq-dev libssl-dev libabsl-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libphonenumber-dev libicu-dev libargon2-dev
  postgresql-15 postgresql-contrib
)

cdp_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
cdp_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

cdp_require_root() {
  [[ $(id -u) -eq 0 ]] || cdp_die "run this as root (it installs packages and runs PostgreSQL as $PG_OS_USER)"
}

# Installs only the packages that are missing; runs apt-get update only if one is.
cdp_install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  cdp_say "installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures once (Ninja, ccache, Release) and builds the given targets (all if none).
cdp_build() {
  if [[ ! -f $CDP_BUILD_DIR/build.ninja ]]; then
    cdp_say "configuring the build in $CDP_BUILD_DIR"
    cmake -S "$CDP_ROOT" -B "$CDP_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cdp_say "building ${*:-everything}"
  local start=$SECONDS
  if ! ninja -C "$CDP_BUILD_DIR" "$@" >"$CDP_BUILD_DIR/last-build.log" 2>&1; then
    grep -vE '^\[[0-9]+/[0-9]+\] ' "$CDP_BUILD_DIR/last-build.log" | tail -n 40 >&2
    cdp_die "build failed (full output: $CDP_BUILD_DIR/last-build.log)"
  fi
  cdp_say "build done in $((SECONDS - start)) s"
}

cdp_ensure_pg_user() {
  id -u "$PG_OS_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
}

cdp_as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }

# cdp_pg_init DATA_DIR: creates a cluster (superuser "postgres") unless one is there.
# Unix-socket connections are trusted (the socket lives in a private directory); TCP
# connections on loopback need a password (scram-sha-256). Text sorts by collation "C":
# glibc's C.UTF-8 sorts by code point too, which for UTF-8 is byte order, so nothing sorts
# differently, but PostgreSQL 15 compares "C" text with memcmp where C.UTF-8 takes
# strcoll, and every index on ids (profiles, records, the access log's callers) compares
# text on each insert and lookup. Character classes (upper, lower, regular expressions)
# stay C.UTF-8's.
cdp_pg_init() {
  local data=$1
  [[ -f $data/PG_VERSION ]] && return 0
  mkdir -p "$data"
  chown "$PG_OS_USER" "$data"
  chmod 700 "$data"
  cdp_as_pg test -w "$data" ||
    cdp_die "PostgreSQL's user $PG_OS_USER cannot reach $data (a parent directory is private); set CDP_HOME to a directory under /var/lib or /srv"
  cdp_say "creating a PostgreSQL cluster in $data"
  cdp_as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --lc-collate=C >/dev/null
}

# The memory this machine gives its processes, in kB: MemTotal, or the limit of the control
# group this shell runs in (or of one above it), if lower. cgroup v2 and v1 alike.
cdp_memory_kb() {
  local kb id controllers path root file dir value
  kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  while IFS=: read -r id controllers path; do
    if [[ $id == 0 && -z $controllers ]]; then
      root=/sys/fs/cgroup file=memory.max
    elif [[ ,$controllers, == *,memory,* ]]; then
      root=/sys/fs/cgroup/memory file=memory.limit_in_bytes
    else
      continue
    fi
    dir=$root${path%/}
    while :; do
      if [[ -r $dir/$file ]]; then
        value=$(<"$dir/$file")  # bytes, or "max"
        [[ $value =~ ^[0-9]+$ ]] && ((value / 1024 < kb)) && kb=$((value / 1024))
      fi
      [[ $dir == "$root" || $dir != "$root"/* ]] && break
      dir=${dir%/*}
    done
  done < <(cat /proc/self/cgroup 2>/dev/null)  # none without cgroups: MemTotal
  echo "$kb"
}

# The memory PostgreSQL may use, sized to this machine, in place of PostgreSQL's own
# defaults (128 MB of shared buffers, 1 GB of WAL between checkpoints): shared buffers get
# a quarter of the memory (cdp_memory_kb), at least 128 MB and at most 1 GB; each cluster
# started this way takes its own share. 4 GB of WAL between checkpoints, so that a bulk
# load is not checkpointed (and every page it touched written out again) every few
# seconds; the WAL directory may then hold that much. Nothing with CDP_PG_MEMORY=default
# (tests/run.sh's throwaway server, whose data is small). These come on the command line,
# so they outrank postgresql.conf and ALTER SYSTEM; CDP_PG_OPTIONS, which comes after
# them, overrides them.
#
# Why (cdp-bench-ingest --people=1000000, 2.4 GB of data, on a 2-core machine with 23 GB):
# - defaults, three runs: the inserting backends wrote 1.6M pages out themselves and a
#   checkpoint came every 23 s; one record written alone took 3.0-4.1 ms (p50) and
#   9.5-13.1 ms (p99); bulk 12,221-12,558 records/s;
# - 1 GB and 4 GB of WAL, two runs: backends wrote 549-551k pages; one record 1.6-2.4 /
#   4.6-7.8 ms; bulk 11,652-12,555/s (127-134 µs per record);
# - 6 GB (a quarter of the memory, the documentation's starting point) and 4 GB of WAL,
#   three runs: one record 1.7-2.1 / 6.5-8.1 ms, but bulk 10,464-11,898/s, with more CPU
#   per record in every run (134-145 µs against 127-132).
cdp_pg_memory_options() {
  [[ ${CDP_PG_MEMORY:-sized} == default ]] && return 0
  local mb=$(($(cdp_memory_kb) / 1024 / 4))
  ((mb < 128)) && mb=128
  ((mb > 1024)) && mb=1024
  echo "-c shared_buffers=${mb}MB -c max_wal_size=4GB"
}

# cdp_pg_start DATA_DIR SOCKET_DIR PORT LOG_FILE: starts the cluster and waits until it
# accepts connections. Listens on the Unix socket in SOCKET_DIR and on 127.0.0.1:PORT.
# Room for 200 connections: every service keeps a pool, tests run several stacks at once,
# and long reads (verifying the log) open a connection of their own. Memory as
# cdp_pg_memory_options sizes it. CDP_PG_OPTIONS adds server settings, or overrides those
# ("-c shared_buffers=4GB").
cdp_pg_start() {
  local data=$1 sock=$2 port=$3 logfile=$4
  mkdir -p "$sock" "$(dirname "$logfile")"
  chown "$PG_OS_USER" "$sock"
  chmod 700 "$sock"
  touch "$logfile" && chown "$PG_OS_USER" "$logfile"
  cdp_as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$logfile" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c fsync=${CDP_PG_FSYNC:-on} -c max_connections=200 $(cdp_pg_memory_options) ${CDP_PG_OPTIONS:-}" start >/dev/null
}

cdp_pg_running() { cdp_as_pg "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

cdp_pg_stop() {
  local data=$1
  cdp_pg_running "$data" || return 0
  cdp_as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
}

# A TCP port on loopback that nothing listens on right now.
cdp_free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}
