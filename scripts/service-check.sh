#!/usr/bin/env bash
# The probe under its systemd unit, for real (issue 17, item 3): boots
# systemd in a Debian bookworm container and runs the installed probe under
# the unmodified packaging/systemd/blockwatch-probe.service, as a volunteer
# would (docs/volunteers.md, "Install on a Raspberry Pi or a Linux server").
# `npm run check:service`; root only; not part of npm test.
#
# Steps:
# 1. A minimal Debian bookworm with systemd (debootstrap --variant=minbase),
#    made once and kept in $BLOCKWATCH_SERVICE_CACHE
#    (/var/cache/blockwatch-service-check/rootfs), outside the repository.
# 2. `npm pack -w probe`, and `npm install -g --offline --omit=dev` of that
#    tarball into the rootfs's /usr/local (from the npm cache `npm ci`
#    filled). Kept while the tarball and Node are the same (their sha256 and
#    version in rootfs/usr/local/.blockwatch-probe). The first install
#    compiles better-sqlite3, as on a volunteer's machine without GitHub
#    (about 3 minutes here), and keeps its binary in the cache; a later
#    install of a changed tarball with the same better-sqlite3 and Node runs
#    with --ignore-scripts and puts that binary back instead of compiling
#    again (better-sqlite3's is the package's only install script).
# 3. Each run boots an overlay of that rootfs (the cached tree is never
#    written by a run) with `systemd-nspawn --boot`, the host's Node bound
#    read-only at /usr/bin/node, where the unit's ExecStart wants it.
#    --keep-unit --register=no: this machine's PID 1 is not systemd, so there
#    is no machined to register with and no scope to ask for.
# 4. An aggregator from this repository (`blockwatch aggregator serve`) on a
#    throw-away PostgreSQL database, reached through PostgreSQL's Unix socket,
#    listening on 127.0.0.1:8080 inside the container's network namespace,
#    with a one-row target list (its own /healthz).
# 5. Inside: `blockwatch-probe init` with the unit's --config and --data-dir,
#    a priority run every minute and no jitter (init's flags, not the unit's),
#    the unit copied from the installed package into /etc/systemd/system,
#    `systemctl enable --now`; then the checks: active, a dynamic user, the
#    state directory owned by it, a run measured and uploaded into the
#    aggregator, memory, `systemd-analyze security`, a restart that keeps
#    config and outbox, and a clean `systemctl stop`.
# 6. Cleanup on every exit: the container powered off, the overlay removed,
#    the aggregator stopped, the database dropped. The logs of the last run
#    stay in $BLOCKWATCH_SERVICE_CACHE/last-run/.
#
# The network: the container has its own network namespace (--private-network)
# with loopback only, and the aggregator joins it (nsenter --net). The unit
# cannot be told --no-messaging-list, so once the volunteer consents, each run
# also measures the built-in messaging list (WhatsApp, Telegram's data
# centres by address, ...); in this namespace those attempts end at once
# (no route, and the resolver is pinned to 127.0.0.1:1), and no packet leaves
# the machine. With the host's network shared they would go to the Internet.
#
# Exit status 0 when every check passed; otherwise 1, with the failed check
# on stderr.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BLOCKWATCH_SERVICE_CACHE:-/var/cache/blockwatch-service-check}
MIRROR=${BLOCKWATCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PGSOCK=${BLOCKWATCH_SERVICE_PGSOCKET:-/var/run/postgresql}
# How long to wait for the first run's measurement (the run starts at the next
# whole minute; the messaging list adds about 25 s).
RUN_WAIT_S=${BLOCKWATCH_SERVICE_RUN_WAIT:-240}

ROOTFS=$CACHE/rootfs
STATE=/var/lib/blockwatch-probe
AGG=http://127.0.0.1:8080
TARGET=$AGG/healthz
ADMIN_TOKEN=service-check-admin
T0=$(date +%s)

WORK=''
MERGED=''
NSPAWN_PID=''
LEADER=''
AGG_PID=''
DB=''
MACHINE="bw-service-check-$$"

log() { printf '[service-check %4ds] %s\n' $(($(date +%s) - T0)) "$*"; }
fail() {
  printf '[service-check %4ds] FAILED: %s\n' $(($(date +%s) - T0)) "$*" >&2
  exit 1
}

# A command inside the container (all its namespaces), with a plain environment.
inside() { nsenter --target "$LEADER" --all -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# A command of the host in the container's network namespace only.
in_net() { nsenter --target "$LEADER" --net -- "$@"; }

save_logs() {
  [ -n "$WORK" ] || return 0
  rm -rf "$CACHE/last-run"
  mkdir -p "$CACHE/last-run"
  for f in console.log aggregator.log pack.log install.log unit-journal.log summary.txt; do
    [ -f "$WORK/$f" ] && cp "$WORK/$f" "$CACHE/last-run/$f"
  done
  return 0
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$LEADER" ] && [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    inside journalctl -u blockwatch-probe --no-pager -o short-iso >"$WORK/unit-journal.log" 2>&1
    inside systemctl poweroff --no-block >/dev/null 2>&1
  fi
  if [ -n "$AGG_PID" ]; then
    kill -TERM "$AGG_PID" 2>/dev/null
    wait "$AGG_PID" 2>/dev/null
  fi
  if [ -n "$NSPAWN_PID" ]; then
    for _ in $(seq 60); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 1; done
    if kill -0 "$NSPAWN_PID" 2>/dev/null; then
      echo "service-check: the container did not power off in 60 s; killing systemd-nspawn" >&2
      kill -KILL "$NSPAWN_PID" 2>/dev/null
      rc=1
    fi
    wait "$NSPAWN_PID" 2>/dev/null
  fi
  rm -rf "/run/systemd/nspawn/propagate/$MACHINE"
  if [ -n "$DB" ]; then
    psql -h "$PGSOCK" -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || echo "service-check: could not drop database $DB" >&2
  fi
  if [ -n "$MERGED" ] && mountpoint -q "$MERGED"; then umount "$MERGED" || umount -l "$MERGED"; fi
  save_logs
  [ -n "$WORK" ] && rm -rf "$WORK"
  if [ "$rc" = 0 ]; then log "passed in $(($(date +%s) - T0)) s; logs in $CACHE/last-run/"; else echo "service-check: failed; logs in $CACHE/last-run/" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- What it needs --------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap, systemd-nspawn, mounts)"
for c in debootstrap systemd-nspawn nsenter psql curl npm node sha256sum; do
  command -v "$c" >/dev/null || fail "$c is missing (Debian: apt-get install -y systemd-container debootstrap postgresql-client curl)"
done
[ -S "$PGSOCK/.s.PGSQL.5432" ] || fail "no PostgreSQL socket in $PGSOCK (set BLOCKWATCH_SERVICE_PGSOCKET)"
NODE=$(readlink -f "$(command -v node)")
if ldd "$NODE" | grep -q libnode; then fail "$NODE needs libnode.so (Debian's nodejs); bind-mounting it alone into the container is not enough: use NodeSource's or the official single-binary Node"; fi
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/run.XXXXXX")

# --- 1. The Debian rootfs, made once ---------------------------------------
if [ ! -f "$ROOTFS/.complete" ]; then
  log "debootstrap bookworm (minbase, systemd, dbus) into $ROOTFS"
  rm -rf "$ROOTFS" "$ROOTFS.tmp"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$ROOTFS.tmp" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    fail "debootstrap failed: $(tail -5 "$WORK/debootstrap.log")"
  echo bwservicecheck >"$ROOTFS.tmp/etc/hostname"
  mv "$ROOTFS.tmp" "$ROOTFS"
  touch "$ROOTFS/.complete"
  log "rootfs ready"
else
  log "rootfs cached in $ROOTFS"
fi

# --- 2. The probe's tarball, installed into the rootfs's /usr/local ------------
log "npm pack -w probe"
(cd "$REPO" && NODE_OPTIONS='' npm pack -w probe --pack-destination "$WORK" >"$WORK/pack.log" 2>&1) || fail "npm pack -w probe: $(tail -20 "$WORK/pack.log")"
TGZ=$(ls "$WORK"/blockwatch-probe-*.tgz)
KEY="$(sha256sum "$TGZ" | cut -d' ' -f1) node $(node --version)"
if [ "$(cat "$ROOTFS/usr/local/.blockwatch-probe" 2>/dev/null)" != "$KEY" ]; then
  rm -rf "$ROOTFS/usr/local/lib/node_modules/blockwatch-probe" "$ROOTFS/usr/local/bin/blockwatch-probe" "$ROOTFS/usr/local/.blockwatch-probe"
  SQLITE_VERSION=$(tar -xOzf "$TGZ" package/node_modules/better-sqlite3/package.json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).version)')
  SQLITE_BIN=$CACHE/better-sqlite3-$SQLITE_VERSION-node-$(node -p 'process.versions.modules + "-" + process.arch').node
  SQLITE_DEST=$ROOTFS/usr/local/lib/node_modules/blockwatch-probe/node_modules/better-sqlite3/build/Release/better_sqlite3.node
  if [ -f "$SQLITE_BIN" ]; then
    log "npm install -g --offline --ignore-scripts $(basename "$TGZ") into the rootfs's /usr/local, with better-sqlite3 $SQLITE_VERSION's binary from an earlier install"
    NODE_OPTIONS='' npm install -g --prefix "$ROOTFS/usr/local" --offline --omit=dev --no-audit --no-fund --ignore-scripts "$TGZ" >"$WORK/install.log" 2>&1 ||
      fail "npm install of the probe's tarball: $(tail -20 "$WORK/install.log")"
    mkdir -p "$(dirname "$SQLITE_DEST")"
    cp "$SQLITE_BIN" "$SQLITE_DEST"
  else
    log "npm install -g --offline $(basename "$TGZ") into the rootfs's /usr/local (compiles better-sqlite3 $SQLITE_VERSION)"
    NODE_OPTIONS='' npm install -g --prefix "$ROOTFS/usr/local" --offline --omit=dev --no-audit --no-fund "$TGZ" >"$WORK/install.log" 2>&1 ||
      fail "npm install of the probe's tarball: $(tail -20 "$WORK/install.log")"
    [ -f "$SQLITE_DEST" ] || fail "better-sqlite3's install made no binary: $(tail -20 "$WORK/install.log")"
    cp "$SQLITE_DEST" "$SQLITE_BIN"
  fi
  echo "$KEY" >"$ROOTFS/usr/local/.blockwatch-probe"
else
  log "the same tarball is installed in the rootfs already"
fi
UNIT_SRC=$ROOTFS/usr/local/lib/node_modules/blockwatch-probe/dist/packaging/systemd/blockwatch-probe.service
[ -f "$UNIT_SRC" ] || fail "the package carries no unit at ${UNIT_SRC#"$ROOTFS"}"
cmp -s "$UNIT_SRC" "$REPO/packaging/systemd/blockwatch-probe.service" || fail "the packed unit differs from packaging/systemd/blockwatch-probe.service"

# --- 3. Boot ---------------------------------------------------------------
MERGED=$WORK/root
mkdir -p "$WORK/upper" "$WORK/ovl" "$MERGED"
mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$WORK/upper,workdir=$WORK/ovl" "$MERGED" || fail "mount overlay on $MERGED"
log "systemd-nspawn --boot ($MACHINE)"
systemd-nspawn --boot --directory="$MERGED" --machine="$MACHINE" --keep-unit --register=no --private-network \
  --bind-ro="$NODE:/usr/bin/node" --console=read-only >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 30); do
  LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd || true)
  [ -n "$LEADER" ] && break
  kill -0 "$NSPAWN_PID" 2>/dev/null || fail "systemd-nspawn exited: $(tail -20 "$WORK/console.log")"
  sleep 1
done
[ -n "$LEADER" ] || fail "no systemd in the container after 30 s: $(tail -20 "$WORK/console.log")"
# systemctl answers nothing until systemd's socket is there: ask again each second.
BOOT=''
for _ in $(seq 120); do
  BOOT=$(nsenter --target "$LEADER" --all -- systemctl is-system-running 2>/dev/null || true)
  case "$BOOT" in running | degraded | maintenance | stopping) break ;; esac
  kill -0 "$NSPAWN_PID" 2>/dev/null || fail "systemd-nspawn exited: $(tail -20 "$WORK/console.log")"
  sleep 1
done
case "$BOOT" in
  running) log "systemd is up (running)" ;;
  degraded) log "systemd is up (degraded: $(inside systemctl --failed --no-legend --plain | cut -d' ' -f1 | tr '\n' ' '))" ;;
  *) fail "systemd in the container did not finish booting: '$BOOT'; $(tail -20 "$WORK/console.log")" ;;
esac
inside /usr/bin/node --version >/dev/null || fail "the host's Node does not run inside the container"

# --- 4. The aggregator, in the container's network namespace ------------------
DB="bw_service_check_$$"
psql -h "$PGSOCK" -U postgres -qc "CREATE DATABASE $DB" || fail "CREATE DATABASE $DB"
# Not through in_net: a shell function run in the background is a subshell of
# its own, and $! would name it, not the aggregator, which then outlived the
# check. nsenter and env exec what follows, so $! is the aggregator's Node.
nsenter --target "$LEADER" --net -- env DATABASE_URL="postgres://postgres@/$DB?host=$PGSOCK" ADMIN_TOKEN=$ADMIN_TOKEN CONTROL_ALLOW=127.0.0.0/8 LOG_FORMAT=json \
  node "$REPO/scripts/blockwatch.js" aggregator serve --host 127.0.0.1 --port 8080 >"$WORK/aggregator.log" 2>&1 &
AGG_PID=$!
for _ in $(seq 120); do
  in_net curl -sf -o /dev/null "$AGG/healthz" && break
  kill -0 "$AGG_PID" 2>/dev/null || fail "the aggregator exited: $(tail -20 "$WORK/aggregator.log")"
  sleep 1
done
in_net curl -sf -o /dev/null "$AGG/healthz" || fail "the aggregator did not answer on $AGG in 120 s"
printf 'url,category_code,category_description,date_added,source,notes\n%s,CTRL,Control content,2024-01-01,service-check,loopback\n' "$TARGET" >"$WORK/ZZ.csv"
# ZZ: the country the aggregator gives a probe on loopback; a two-letter list is a priority list.
in_net curl -sf -X PUT -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: text/csv' --data-binary "@$WORK/ZZ.csv" "$AGG/api/v1/target-lists/ZZ" >/dev/null ||
  fail "PUT /api/v1/target-lists/ZZ"
log "aggregator up on $AGG (database $DB), target list ZZ: $TARGET"

# --- 5. init, the unit, enable --now -------------------------------------------
inside /usr/bin/node /usr/local/bin/blockwatch-probe init --config $STATE/probe.json --data-dir $STATE \
  --aggregator $AGG --accept-risks --resolver 127.0.0.1:1 --priority-schedule '* * * * *' --jitter 0 --lang en >"$WORK/init.log" 2>&1 ||
  fail "blockwatch-probe init: $(cat "$WORK/init.log")"
log "blockwatch-probe init: $(head -1 "$WORK/init.log")"
cp "$UNIT_SRC" "$MERGED/etc/systemd/system/blockwatch-probe.service"
inside systemctl daemon-reload
inside systemctl enable --now blockwatch-probe >/dev/null 2>&1 || fail "systemctl enable --now blockwatch-probe: $(inside systemctl status --no-pager blockwatch-probe)"
T_START=$(date +%s)
sleep 3
[ "$(inside systemctl is-active blockwatch-probe)" = active ] || fail "the service is not active: $(inside systemctl status --no-pager -n 20 blockwatch-probe)"
PID1=$(inside systemctl show -p MainPID --value blockwatch-probe)
SVC_UID=$(inside awk '/^Uid:/ { print $2 }' /proc/"$PID1"/status)
RSS_REST=$(inside awk '/^VmRSS:/ { print $2 }' /proc/"$PID1"/status)
[ "$(inside systemctl show -p DynamicUser --value blockwatch-probe)" = yes ] || fail "DynamicUser is not yes"
[ "$SVC_UID" -ge 61184 ] && [ "$SVC_UID" -le 65519 ] || fail "the probe runs as uid $SVC_UID, not in systemd's dynamic range 61184-65519"
log "active, main pid $PID1, uid $SVC_UID (dynamic), RSS 3 s after start $((RSS_REST / 1024)) MiB"
[ "$(inside readlink $STATE)" = private/blockwatch-probe ] || fail "$STATE is not the symlink to private/blockwatch-probe that DynamicUser makes"
OWN=$(inside stat -c '%u %a' /var/lib/private/blockwatch-probe)
[ "$OWN" = "$SVC_UID 700" ] || fail "/var/lib/private/blockwatch-probe is '$OWN' (uid mode), not '$SVC_UID 700'"
[ "$(inside stat -c %u $STATE/probe.json)" = "$SVC_UID" ] || fail "the config init wrote as root was not handed to the service's user"
log "state directory $STATE -> /var/lib/private/blockwatch-probe, owned by uid $SVC_UID, mode 0700"

# --- Checks: a run, measured and uploaded ----------------------------------------
log "waiting for the first priority run (at the next whole minute) to reach the aggregator"
until in_net curl -sf "$AGG/api/v1/measurements?limit=100" | grep -qF "\"input\":\"$TARGET\""; do
  if inside journalctl -u blockwatch-probe --no-pager -o cat | grep -q '"msg":"run failed"'; then
    fail "a run failed under the unit: $(inside journalctl -u blockwatch-probe --no-pager -o cat | grep '"run failed"' | head -1 | cut -c1-600)"
  fi
  [ "$(inside systemctl is-active blockwatch-probe)" = active ] || fail "the service stopped: $(inside systemctl status --no-pager -n 20 blockwatch-probe)"
  [ $(($(date +%s) - T_START)) -lt "$RUN_WAIT_S" ] || fail "no measurement of $TARGET in the aggregator after $RUN_WAIT_S s: $(inside journalctl -u blockwatch-probe --no-pager -o cat | tail -5)"
  sleep 3
done
COUNT=$(in_net curl -sf "$AGG/api/v1/measurements?limit=1000" | grep -o '"measurement_uid"' | wc -l)
RUNLINE=$(inside journalctl -u blockwatch-probe --no-pager -o cat | grep '"msg":"run finished"' | head -1)
log "measured and uploaded: $COUNT measurements in the aggregator (the loopback target and the messaging list, unreachable here); $(echo "$RUNLINE" | grep -o '"written":[0-9]*,' | tr -d ',') in $(echo "$RUNLINE" | grep -o '"ms":[0-9]*' | cut -d: -f2) ms"
sleep 2
[ "$(inside systemctl show -p MainPID --value blockwatch-probe)" = "$PID1" ] || fail "the main process changed during the run (restarted?)"

# --- Memory: the cgroup's figures where the container has a memory controller ------
MEM_CG=''
for d in /sys/fs/cgroup/system.slice/blockwatch-probe.service /sys/fs/cgroup/unified/system.slice/blockwatch-probe.service; do
  if inside test -f "$d/memory.current"; then
    MEM_CG="cgroup v2 memory.current $(($(inside cat "$d/memory.current") / 1048576)) MiB, memory.peak $(inside cat "$d/memory.peak" 2>/dev/null | awk '{ printf "%d MiB", $1 / 1048576 }')"
    break
  fi
done
if [ -z "$MEM_CG" ] && inside test -f /sys/fs/cgroup/memory/system.slice/blockwatch-probe.service/memory.usage_in_bytes; then
  d=/sys/fs/cgroup/memory/system.slice/blockwatch-probe.service
  MEM_CG="cgroup v1 memory.usage_in_bytes $(($(inside cat $d/memory.usage_in_bytes) / 1048576)) MiB, memory.max_usage_in_bytes $(($(inside cat $d/memory.max_usage_in_bytes) / 1048576)) MiB"
fi
[ -n "$MEM_CG" ] || MEM_CG="no memory controller in the container's cgroups (systemctl MemoryCurrent=$(inside systemctl show -p MemoryCurrent --value blockwatch-probe)); MemoryMax= is not enforced here"
PROC_MEM=$(inside awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "VmRSS %d MiB, VmHWM (peak RSS) %d MiB", r / 1024, h / 1024 }' /proc/"$PID1"/status)
log "memory after the run: $MEM_CG; the main process: $PROC_MEM"

# --- systemd-analyze security ------------------------------------------------
SECURITY=$(inside systemd-analyze security --no-pager blockwatch-probe | grep 'Overall exposure level' | sed 's/.*: //')
[ -n "$SECURITY" ] || fail "systemd-analyze security gave no exposure level"
log "systemd-analyze security: $SECURITY"

# --- A restart keeps config and outbox ---------------------------------------------
CFG_SUM=$(inside sha256sum $STATE/probe.json | cut -d' ' -f1)
FILES=$(inside find /var/lib/private/blockwatch-probe -type f -printf '%P\n' | sort)
inside systemctl restart blockwatch-probe || fail "systemctl restart"
sleep 3
PID2=$(inside systemctl show -p MainPID --value blockwatch-probe)
[ "$(inside systemctl is-active blockwatch-probe)" = active ] && [ "$PID2" != "$PID1" ] && [ "$PID2" != 0 ] || fail "not active again after the restart: $(inside systemctl status --no-pager -n 20 blockwatch-probe)"
[ "$(inside sha256sum $STATE/probe.json | cut -d' ' -f1)" = "$CFG_SUM" ] || fail "the config changed across the restart"
for f in $FILES; do
  case "$f" in *-wal | *-shm) continue ;; esac # SQLite's journal files come and go with checkpoints
  inside test -f "/var/lib/private/blockwatch-probe/$f" || fail "$f is gone after the restart"
done
[ "$(inside stat -c %u /var/lib/private/blockwatch-probe/outbox.sqlite)" = "$(inside awk '/^Uid:/ { print $2 }' /proc/"$PID2"/status)" ] || fail "the outbox is not owned by the restarted service's user"
log "restarted (main pid $PID1 -> $PID2): config unchanged, the outbox and state files kept ($(echo "$FILES" | grep -cv -- '-wal$\|-shm$') files)"

# --- A clean stop --------------------------------------------------------------
S0=$(date +%s%N)
inside systemctl stop blockwatch-probe || fail "systemctl stop"
STOP_MS=$((($(date +%s%N) - S0) / 1000000))
SHOW=$(inside systemctl show -p ActiveState -p Result -p ExecMainCode -p ExecMainStatus blockwatch-probe | tr '\n' ' ')
case "$SHOW" in
  *ActiveState=inactive*Result=success* | *Result=success*ActiveState=inactive*) ;;
  *) fail "systemctl stop was not clean: $SHOW" ;;
esac
inside journalctl -u blockwatch-probe --no-pager -o cat | grep -q 'SIGKILL\|timed out' && fail "the stop needed SIGKILL or timed out"
AFTER=$(in_net curl -sf "$AGG/api/v1/measurements?limit=1000" | grep -o '"measurement_uid"' | wc -l)
log "stopped in $STOP_MS ms: $SHOW"

{
  echo "service check of blockwatch-probe.service, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "status: active under DynamicUser (uid $SVC_UID), state directory owned by it, mode 0700"
  echo "run: $COUNT measurements uploaded by the first run ($AFTER in the aggregator at the end)"
  echo "memory: 3 s after start VmRSS $((RSS_REST / 1024)) MiB; after the run $PROC_MEM; $MEM_CG"
  echo "security: $SECURITY"
  echo "restart: config and outbox kept; stop: $STOP_MS ms, $SHOW"
  echo "time so far: $(($(date +%s) - T0)) s"
} | tee "$WORK/summary.txt"
