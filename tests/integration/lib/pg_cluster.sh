# shellcheck shell=bash
# Throwaway PostgreSQL clusters for integration tests: start/stop/psql/pgbench/WAL helpers, free ports, temp dirs,
# and one cleanup registry that tears everything down from an EXIT/INT/TERM/HUP trap, also when the test fails.
#
# Usage (tests run as root; every PostgreSQL program runs as the "postgres" user):
#   source "$(dirname "$0")/lib/pg_cluster.sh"
#   pg_tmpdir work                        # sets $work to a new dir under /tmp owned by postgres, removed at exit
#   pg_free_port port                     # sets $port to a free, reserved port
#   pg_cluster_start "$work/pg" "$port" "archive_command=/bin/true"
#   pg_cluster_psql "$work/pg" "$port" "select 1"
#
# Rules the library relies on:
# * Functions that register cleanup (pg_tmpdir, pg_free_port, pg_cluster_start, pg_cleanup_register) must run in the
#   main shell, never inside $(...) or a pipeline: registrations made in a subshell would be lost. They refuse.
# * Do not install your own EXIT/INT/TERM trap after sourcing; register cleanup with pg_cleanup_register instead.
# * Paths may be relative; they are made absolute. Commands for "postgres" run from "/" (it cannot enter /root).
#
# Environment knobs:
#   PG_BIN            PostgreSQL binaries            (default /usr/lib/postgresql/15/bin)
#   PG_OS_USER        OS user that owns clusters     (default postgres)
#   PGBR_TMP_BASE     where pg_tmpdir creates dirs   (default /tmp)
#   PGBR_TEST_KEEP=1  keep temp dirs at exit (clusters are still stopped) to inspect a failure
#
# Cluster layout for pg_cluster_start DIR: DIR is PGDATA; the unix socket lives in DIR.sock/ and the server log in
# DIR.log, both siblings of DIR (kept outside PGDATA so that backups never see them). The settings the library
# manages are written to DIR/pgbr_test.conf, which postgresql.conf includes last.

if [[ -n ${PG_CLUSTER_SH_LOADED:-} ]]; then
  return 0
fi
PG_CLUSTER_SH_LOADED=1

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_OS_USER=${PG_OS_USER:-postgres}
PGBR_TMP_BASE=${PGBR_TMP_BASE:-/tmp}

# The shell that sourced us owns the cleanup registry.
PG__OWNER_PID=$BASHPID
PG__CLEANUP=()            # shell code snippets, run last-registered first
PG__CLEANING=0
PG__START_SECONDS=$SECONDS
PG_CURRENT_STEP=""
PG__PORT_LOCK_DIR=${PGBR_TMP_BASE}/pgbr-port-locks
# The stderr the test started with: a trap can fire while a command's output is redirected (e.g. into a log file);
# the handlers switch back to this one so that their messages and the cleanup output are seen.
exec {PG__STDERR_FD}>&2

# ---------------------------------------------------------------------------------------------------------------------
# Messages and steps

# pg_log MSG...: progress message on stderr, prefixed with the elapsed time.
pg_log() {
  printf '[%4ds] %s\n' "$((SECONDS - PG__START_SECONDS))" "$*" >&2
}

# pg_error MSG [LINE...]: error message on stderr naming the current step (if any); further arguments (e.g. a
# "HINT: ...") go on lines of their own. Returns 0 (safe under set -e, so more diagnostics can follow): callers
# return 1 themselves.
pg_error() {
  if [[ -n $PG_CURRENT_STEP ]]; then
    printf 'ERROR [step: %s]: %s\n' "$PG_CURRENT_STEP" "$1" >&2
  else
    printf 'ERROR: %s\n' "$1" >&2
  fi
  shift
  (($# == 0)) || printf '%s\n' "$@" >&2
}

# pg_die MSG...: pg_error then exit 1 (cleanup runs from the EXIT trap).
pg_die() {
  pg_error "$@"
  exit 1
}

# pg_step NAME: names the step that is running; a failing script reports it at exit.
pg_step() {
  PG_CURRENT_STEP=$*
  pg_log "== $*"
}

# ---------------------------------------------------------------------------------------------------------------------
# Cleanup registry

pg__check_main_shell() {
  if [[ $BASHPID != "$PG__OWNER_PID" ]]; then
    pg_error "$1 called in a subshell (\$(...) or a pipeline); its cleanup registration would be lost" \
      "HINT: call it as a plain command; it returns results through a variable name"
    return 1
  fi
}

# pg_cleanup_register CMD [ARG...]: run at exit, last-registered first. With one argument CMD is shell code (eval'd);
# with several, they are a command and its arguments (quoted safely). Failures of cleanup commands are reported, not fatal.
pg_cleanup_register() {
  pg__check_main_shell pg_cleanup_register || return 1
  (($# > 0)) || { pg_error "pg_cleanup_register: no command given"; return 1; }
  local code
  if (($# == 1)); then
    code=$1
  else
    code=$(printf '%q ' "$@")
  fi
  PG__CLEANUP+=("$code")
}

# pg_cleanup_run: run (and forget) every registered cleanup command now, newest first. Called by the traps.
pg_cleanup_run() {
  local i code
  for ((i = ${#PG__CLEANUP[@]} - 1; i >= 0; i--)); do
    code=${PG__CLEANUP[i]}
    unset 'PG__CLEANUP[i]'
    # errexit must not abort the remaining cleanups; run each in its own errexit-free context.
    if ! (set +e; eval "$code"); then
      printf 'WARNING: cleanup command failed: %s\n' "$code" >&2
    fi
  done
  PG__CLEANUP=()
}

pg__on_exit() {
  local rc=$?
  trap - EXIT
  exec 2>&"$PG__STDERR_FD"
  if ((PG__CLEANING == 0)); then
    PG__CLEANING=1
    if ((rc != 0)) && [[ -n $PG_CURRENT_STEP ]]; then
      printf 'FAILED (exit %d) during step: %s\n' "$rc" "$PG_CURRENT_STEP" >&2
    fi
    pg_cleanup_run
  fi
  exit "$rc"
}

pg__on_signal() {
  local sig=$1 code=$2
  trap - EXIT INT TERM HUP
  exec 2>&"$PG__STDERR_FD"
  printf 'interrupted by SIG%s%s, cleaning up\n' "$sig" "${PG_CURRENT_STEP:+ during step: $PG_CURRENT_STEP}" >&2
  if ((PG__CLEANING == 0)); then
    PG__CLEANING=1
    pg_cleanup_run
  fi
  exit "$code"
}

trap pg__on_exit EXIT
trap 'pg__on_signal INT 130' INT
trap 'pg__on_signal TERM 143' TERM
trap 'pg__on_signal HUP 129' HUP

# ---------------------------------------------------------------------------------------------------------------------
# Running as the cluster owner

# pg_as_postgres CMD [ARG...]: run a command as $PG_OS_USER from "/" (root uses runuser; postgres runs it directly).
pg_as_postgres() {
  if [[ $(id -un) == "$PG_OS_USER" ]]; then
    (cd / && "$@")
  elif ((EUID == 0)); then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    pg_error "must run as root or as '$PG_OS_USER' (running as '$(id -un)')"
    return 1
  fi
}

# pg__own PATH...: give paths to the cluster owner (no-op when already running as that user).
pg__own() {
  if ((EUID == 0)); then
    chown "$PG_OS_USER:" "$@"
  fi
}

# pg__check_postgres_can_enter DIR: fail with a hint when the cluster owner cannot reach DIR (e.g. under /root).
pg__check_postgres_can_enter() {
  if ! pg_as_postgres test -x "$1" -a -r "$1"; then
    pg_error "user '$PG_OS_USER' cannot enter '$1'" \
      "HINT: every parent directory must be searchable by '$PG_OS_USER'; use a directory under /tmp (pg_tmpdir)"
    return 1
  fi
}

pg__abspath() {
  realpath -m -- "$1"
}

# ---------------------------------------------------------------------------------------------------------------------
# Temp dirs and ports

# pg_tmpdir VAR [PREFIX]: create a new directory under $PGBR_TMP_BASE owned by the cluster owner (mode 0755), store its
# path in VAR and remove it at exit (unless PGBR_TEST_KEEP=1).
pg_tmpdir() {
  pg__check_main_shell pg_tmpdir || return 1
  # Locals carry a prefix so that they cannot shadow the caller's variable name.
  local __pg_var=$1 __pg_prefix=${2:-pgbr-test} __pg_dir
  __pg_dir=$(mktemp -d "${PGBR_TMP_BASE%/}/${__pg_prefix}.XXXXXX") || {
    pg_error "cannot create a temp dir in '$PGBR_TMP_BASE'"
    return 1
  }
  chmod 0755 "$__pg_dir" && pg__own "$__pg_dir" || { pg_error "cannot hand '$__pg_dir' to '$PG_OS_USER'"; return 1; }
  if [[ ${PGBR_TEST_KEEP:-0} == 1 ]]; then
    pg_cleanup_register "printf 'kept temp dir %s (PGBR_TEST_KEEP=1)\n' $(printf '%q' "$__pg_dir") >&2"
  else
    pg_cleanup_register rm -rf -- "$__pg_dir"
  fi
  pg__check_postgres_can_enter "$__pg_dir" || return 1
  printf -v "$__pg_var" '%s' "$__pg_dir"
}

pg__port_in_use() {
  local port=$1
  [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]] && return 0
  [[ -e /tmp/.s.PGSQL.$port || -e /var/run/postgresql/.s.PGSQL.$port ]] && return 0
  return 1
}

# pg_free_port VAR: pick a TCP port in [20000,40000) that nothing listens on, reserve it against concurrent tests
# (lock dir under $PGBR_TMP_BASE/pgbr-port-locks, released at exit; stale locks of dead processes are reclaimed) and
# store it in VAR.
pg_free_port() {
  pg__check_main_shell pg_free_port || return 1
  # Locals carry a prefix so that they cannot shadow the caller's variable name.
  local __pg_var=$1 __pg_port __pg_lock __pg_holder __pg_try
  mkdir -p "$PG__PORT_LOCK_DIR" && chmod 1777 "$PG__PORT_LOCK_DIR" 2>/dev/null
  for ((__pg_try = 0; __pg_try < 200; __pg_try++)); do
    __pg_port=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
    pg__port_in_use "$__pg_port" && continue
    __pg_lock=$PG__PORT_LOCK_DIR/$__pg_port
    if ! mkdir "$__pg_lock" 2>/dev/null; then
      __pg_holder=$(cat "$__pg_lock/pid" 2>/dev/null || true)
      if [[ -n $__pg_holder ]] && ! kill -0 "$__pg_holder" 2>/dev/null; then
        rm -rf -- "$__pg_lock"   # stale: its owner is gone; the port may be tried again
      fi
      continue
    fi
    echo "$PG__OWNER_PID" >"$__pg_lock/pid"
    pg_cleanup_register rm -rf -- "$__pg_lock"
    printf -v "$__pg_var" '%s' "$__pg_port"
    return 0
  done
  pg_error "no free port found in [20000,40000) after 200 attempts"
  return 1
}

# ---------------------------------------------------------------------------------------------------------------------
# Cluster lifecycle

# pg_cluster_socket_dir DIR: print the unix socket directory of the cluster in DIR.
pg_cluster_socket_dir() {
  printf '%s.sock\n' "$(pg__abspath "$1")"
}

# pg_cluster_log DIR: print the server log file of the cluster in DIR.
pg_cluster_log() {
  printf '%s.log\n' "$(pg__abspath "$1")"
}

# pg_cluster_running DIR: succeed when a postmaster is running for DIR.
pg_cluster_running() {
  local dir
  dir=$(pg__abspath "$1")
  [[ -f $dir/postmaster.pid ]] || return 1
  pg_as_postgres "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1
}

# pg__quote_conf VALUE: a single-quoted postgresql.conf string literal.
pg__quote_conf() {
  local v=${1//\\/\\\\}
  printf "'%s'" "${v//\'/\'\'}"
}

# pg_cluster_start DIR PORT [SETTING...]: initdb (if DIR holds no cluster yet) and start a cluster.
#   New cluster: DIR is created (owner postgres, 0700) and initialised with --data-checksums -A trust -U postgres
#   --no-sync. An existing PGDATA (e.g. one made by "pgbackrest restore") is started as it is, with the library's
#   settings rewritten for the new PORT and socket dir.
#   SETTING is one of
#     name=value   a postgresql.conf parameter (value raw; the library quotes it). archive_command=... also turns on
#                  archive_mode unless archive_mode=... is given.
#     --tcp        listen on 127.0.0.1 as well (default: unix socket only, listen_addresses='')
#     --initdb=ARG an extra initdb argument, e.g. --initdb=--wal-segsize=1 (ignored for an existing PGDATA)
#   Defaults: shared_buffers=16MB, max_connections=20, fsync=on, max_wal_senders=2, wal_level=replica, logging_collector
#   off, log to DIR.log. The cluster is registered for an immediate stop at exit.
pg_cluster_start() {
  pg__check_main_shell pg_cluster_start || return 1
  (($# >= 2)) || { pg_error "usage: pg_cluster_start DIR PORT [SETTING...]"; return 1; }
  local dir port sock log conf arg name value
  dir=$(pg__abspath "$1")
  port=$2
  shift 2
  [[ $port =~ ^[0-9]+$ ]] || { pg_error "pg_cluster_start: invalid port '$port'"; return 1; }
  sock=$(pg_cluster_socket_dir "$dir")
  log=$(pg_cluster_log "$dir")

  local listen="''" have_archive_command=0 have_archive_mode=0
  local -a initdb_args=() settings=()
  for arg in "$@"; do
    case $arg in
      --tcp) listen="'127.0.0.1'" ;;
      --initdb=*) initdb_args+=("${arg#--initdb=}") ;;
      *=*)
        name=${arg%%=*}
        value=${arg#*=}
        [[ $name =~ ^[a-z_][a-z0-9_.]*$ ]] || { pg_error "pg_cluster_start: invalid setting name in '$arg'"; return 1; }
        [[ $name == archive_command ]] && have_archive_command=1
        [[ $name == archive_mode ]] && have_archive_mode=1
        settings+=("$name = $(pg__quote_conf "$value")")
        ;;
      *) pg_error "pg_cluster_start: unknown setting '$arg' (expected name=value, --tcp or --initdb=ARG)"; return 1 ;;
    esac
  done
  if ((have_archive_command && !have_archive_mode)); then
    settings+=("archive_mode = 'on'")
  fi

  if pg_cluster_running "$dir"; then
    pg_error "a cluster is already running in '$dir'"
    return 1
  fi

  mkdir -p "$dir" "$sock" || { pg_error "cannot create '$dir' or '$sock'"; return 1; }
  pg__own "$dir" "$sock" && chmod 0700 "$dir" && chmod 0755 "$sock" || {
    pg_error "cannot hand '$dir' to '$PG_OS_USER'"
    return 1
  }
  touch "$log" && pg__own "$log" || { pg_error "cannot create log file '$log'"; return 1; }
  pg__check_postgres_can_enter "$(dirname "$dir")" || return 1

  # Register before initdb so a half-made cluster is stopped too (stopping a stopped cluster is a no-op).
  pg_cleanup_register pg_cluster_stop "$dir" immediate

  if [[ ! -f $dir/PG_VERSION ]]; then
    if [[ -n $(ls -A "$dir") ]]; then
      pg_error "'$dir' is neither empty nor a PostgreSQL data directory"
      return 1
    fi
    pg_log "initdb $dir"
    if ! pg_as_postgres "$PG_BIN/initdb" -D "$dir" --data-checksums -A trust -U "$PG_OS_USER" --no-sync \
      --no-instructions "${initdb_args[@]}" >>"$log" 2>&1; then
      pg_error "initdb failed for '$dir'; last lines of $log:"
      tail -n 20 "$log" >&2
      return 1
    fi
  fi

  conf=$dir/pgbr_test.conf
  {
    echo "# Written by tests/integration/lib/pg_cluster.sh; included last by postgresql.conf."
    echo "port = $port"
    echo "unix_socket_directories = $(pg__quote_conf "$sock")"
    echo "listen_addresses = $listen"
    echo "shared_buffers = '16MB'"
    echo "max_connections = 20"
    echo "fsync = on"
    echo "wal_level = replica"
    echo "max_wal_senders = 2"
    echo "logging_collector = off"
    echo "log_line_prefix = '%m [%p] '"
    printf '%s\n' "${settings[@]}"
  } >"$conf" && pg__own "$conf" && chmod 0600 "$conf" || { pg_error "cannot write '$conf'"; return 1; }
  if ! grep -q "^include_if_exists = 'pgbr_test.conf'" "$dir/postgresql.conf"; then
    echo "include_if_exists = 'pgbr_test.conf'" >>"$dir/postgresql.conf" || { pg_error "cannot edit postgresql.conf"; return 1; }
  fi

  if ! pg_as_postgres "$PG_BIN/pg_ctl" -D "$dir" -l "$log" -w -t 60 start >/dev/null 2>&1; then
    pg_error "pg_ctl start failed for '$dir' (port $port); last lines of $log:"
    tail -n 20 "$log" >&2
    return 1
  fi
  pg_log "started cluster $dir (port $port, socket dir $sock)"
}

# pg_cluster_stop DIR [MODE]: stop the cluster in DIR (MODE fast|smart|immediate, default fast). Succeeds when nothing
# runs. Falls back to immediate mode, then to SIGKILL of the postmaster recorded in DIR/postmaster.pid.
pg_cluster_stop() {
  local dir mode=${2:-fast} pid
  dir=$(pg__abspath "$1")
  pg_cluster_running "$dir" || return 0
  if pg_as_postgres "$PG_BIN/pg_ctl" -D "$dir" -m "$mode" -w -t 60 stop >/dev/null 2>&1; then
    return 0
  fi
  printf 'WARNING: pg_ctl stop -m %s failed for %s; trying immediate\n' "$mode" "$dir" >&2
  if pg_as_postgres "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w -t 30 stop >/dev/null 2>&1; then
    return 0
  fi
  pid=$(head -n 1 "$dir/postmaster.pid" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    printf 'WARNING: killing postmaster %s of %s\n' "$pid" "$dir" >&2
    kill -KILL "$pid" 2>/dev/null || true
    return 0
  fi
  pg_error "cannot stop the cluster in '$dir'"
  return 1
}

# ---------------------------------------------------------------------------------------------------------------------
# Talking to a cluster

# pg_cluster_psql DIR PORT SQL [DBNAME]: run SQL (ON_ERROR_STOP, unaligned, tuples only) and print its result.
pg_cluster_psql() {
  (($# >= 3)) || { pg_error "usage: pg_cluster_psql DIR PORT SQL [DBNAME]"; return 1; }
  local sock
  sock=$(pg_cluster_socket_dir "$1")
  if ! pg_as_postgres "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$sock" -p "$2" -d "${4:-postgres}" -c "$3"; then
    pg_error "psql failed on port $2: ${3:0:200}"
    return 1
  fi
}

# pg_cluster_pgbench_init DIR PORT SCALE [DBNAME]: pgbench -i -s SCALE (quiet).
pg_cluster_pgbench_init() {
  (($# >= 3)) || { pg_error "usage: pg_cluster_pgbench_init DIR PORT SCALE [DBNAME]"; return 1; }
  local sock out
  sock=$(pg_cluster_socket_dir "$1")
  if ! out=$(pg_as_postgres "$PG_BIN/pgbench" -h "$sock" -p "$2" -i -q -s "$3" "${4:-postgres}" 2>&1); then
    pg_error "pgbench -i -s $3 failed on port $2:"
    printf '%s\n' "$out" | tail -n 20 >&2
    return 1
  fi
}

# pg_cluster_pgbench DIR PORT ARG...: run pgbench with the given arguments (last one is usually the database).
pg_cluster_pgbench() {
  local sock
  sock=$(pg_cluster_socket_dir "$1")
  local port=$2
  shift 2
  pg_as_postgres "$PG_BIN/pgbench" -h "$sock" -p "$port" "$@" || { pg_error "pgbench $* failed on port $port"; return 1; }
}

# pg_cluster_switch_wal DIR PORT: force a WAL segment switch and print the name of the segment it closed.
pg_cluster_switch_wal() {
  pg_cluster_psql "$1" "$2" "select pg_walfile_name(pg_switch_wal())"
}

# pg_cluster_wait_archived DIR PORT [SEGMENT] [TIMEOUT_S]: wait until archiving caught up: no .ready file is left in
# pg_wal/archive_status and, if SEGMENT is given, it (or a later segment of the same or a later timeline) was archived.
# Fails after TIMEOUT_S (default 60) with pg_stat_archiver and the end of the server log.
pg_cluster_wait_archived() {
  local dir port=$2 segment=${3:-} timeout=${4:-60} deadline last ready
  dir=$(pg__abspath "$1")
  deadline=$((SECONDS + timeout))
  while :; do
    ready=$(find "$dir/pg_wal/archive_status" -name '*.ready' 2>/dev/null | head -n 1)
    if [[ -z $ready ]]; then
      [[ -z $segment ]] && return 0
      [[ -e $dir/pg_wal/archive_status/$segment.done ]] && return 0
      last=$(pg_cluster_psql "$dir" "$port" "select coalesce(last_archived_wal, '') from pg_stat_archiver") || return 1
      if [[ $last =~ ^[0-9A-F]{24} && ! ${last:0:24} < $segment ]]; then
        return 0
      fi
    fi
    if ((SECONDS >= deadline)); then
      pg_error "WAL archiving of '$dir' did not catch up within ${timeout}s (waiting for ${segment:-all .ready files})"
      pg_cluster_psql "$dir" "$port" "select * from pg_stat_archiver" >&2 || true
      tail -n 20 "$(pg_cluster_log "$dir")" >&2
      return 1
    fi
    sleep 0.2
  done
}
