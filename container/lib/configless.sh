# shellcheck shell=bash
# container/lib/configless.sh: Slurm's configless mode for container/cluster's
# `up --configless` (sourced by container/cluster).
#
# slurmctld alone reads the configuration in $DIR/etc (slurm.conf says
# SlurmctldParameters=enable_configless); everything else fetches it from
# slurmctld and reads its own copy:
#   slurmd      `slurmd -N NODE --conf-server 127.0.0.1:PORT`, no -f: it
#               writes what it fetched to SlurmdSpoolDir/conf-cache
#               ($DIR/spool/NODE/conf-cache) and runs on that slurm.conf
#               (and sets SLURM_CONF to it for its slurmstepd's);
#   clients     (24.11, 26.05) sackd, Slurm's auth and cache daemon, fetches
#               the clients' files into $DIR/run/sackd/conf, and the clients
#               run with SLURM_CONF=$DIR/run/sackd/conf/slurm.conf;
#               (22.05, which has no sackd) the clients use slurmd c1's
#               conf-cache: SLURM_CONF=$DIR/spool/c1/conf-cache/slurm.conf.
# Neither copy has hetpolicy.yaml beside it: only $DIR/etc has the policy,
# and plugstack.conf (which slurmctld ships with slurm.conf: the one beside
# slurm.conf, so slurm.conf has no absolute PlugStackConfig) carries the
# policy's site options itself.
#
# Two defaults of these daemons would reach outside $DIR, so each runs in
# a private mount namespace (unshare --mount) that gives it its own /run:
# - before it has a configuration, a daemon fetches it with munge's default
#   socket, /run/munge/munge.socket.2 (AuthInfo=socket=... is in the
#   configuration it has yet to fetch; 23.02+'s slurmd has --authinfo, but
#   22.05's slurmd and sackd have nothing): the namespace has $DIR/munge
#   there;
# - slurmd points /run/slurm/conf at its conf-cache, and 24.11's sackd
#   caches in /run/slurm/conf (26.05's in $RUNTIME_DIRECTORY/conf, which
#   must be under /run): the namespace's /run/slurm is $DIR/run/<daemon>.
# For a chroot release these are the chroot's /run/munge and /run/slurm
# (made once, empty, in the cached chroot); on the host (22.05) the
# namespace gets a tmpfs /run whose other entries are links to the host's
# /run, so nothing on the host changes.
#
# sackd is installed into the chroot on first use, recorded by a marker
# ($CHROOT/.hetpolicy-sackd) like accounting's, pinned to the chroot's
# Slurm version. It listens for slurmctld's pushed reconfigurations on
# SlurmdPort, which slurm.conf sets to PORT_BASE+4 in this mode (the
# slurmd's have their own ports). `scontrol reconfigure` sends the new
# files to the slurmd's and to sackd.
#
# The caller sets CONFIGLESS (0/1), DIR, PORT_BASE, CTLD_PORT, CHROOT
# (empty for the host), CHROOT_SUITE, RELEASE, REPO, SKIP_BUILD,
# PLUGIN_SOURCE, CARGO_TARGET_DIR (or not), NODES, and provides log, die,
# show_tail, wait_for, pidfile_pid, stop_pid, port_in_use, mount_system and
# FAIL_LOGS.

SACKD_PACKAGES=(sackd)
SACKD_MARKER="$CHROOT/.hetpolicy-sackd"
# Bumped when what configless_root installs changes.
SACKD_RECIPE="packages=${SACKD_PACKAGES[*]} recipe=1"

SACKD_PORT=$((PORT_BASE + 4))
SACKD_PID="$DIR/run/sackd.pid"
SACKD_LOG="$DIR/log/sackd.log"
# sackd's /run/slurm; it caches the clients' files in its conf/.
SACKD_RUN="$DIR/run/sackd"
# Written by `up --configless`: the running cluster is configless.
# shellcheck disable=SC2034 # container/cluster's
CONFIGLESS_FLAG="$DIR/run/configless"
# The node whose conf-cache the clients read on a release without sackd.
CONFIGLESS_CLIENT_NODE=c1

# Does this release have sackd (24.11 and later)?
has_sackd() {
  [[ -n "$CHROOT" ]]
}

# The slurm.conf the clients read: $DIR/etc's, or in configless mode a
# fetched copy (sackd's cache, or slurmd c1's conf-cache on 22.05).
client_slurm_conf() {
  if [[ "$CONFIGLESS" != 1 ]]; then
    echo "$DIR/etc/slurm.conf"
  elif has_sackd; then
    echo "$SACKD_RUN/conf/slurm.conf"
  else
    echo "$DIR/spool/$CONFIGLESS_CLIENT_NODE/conf-cache/slurm.conf"
  fi
}

# The conf-cache slurmd NODE writes (SlurmdSpoolDir/conf-cache).
slurmd_conf_cache() {
  echo "$DIR/spool/$1/conf-cache"
}

# ---------------------------------------------------------------- packages

# Installs sackd into the cached chroot unless its marker says it is there.
configless_root() {
  [[ "$CONFIGLESS" == 1 ]] && has_sackd || return 0
  chroot_add_packages sackd "$SACKD_MARKER" "$SACKD_RECIPE" "$CHROOT.sackd.log" \
    "${SACKD_PACKAGES[@]/%/=@SLURM@}"
}

# ---------------------------------------------------------------- config

# slurm.conf's configless lines (without --configless: nothing).
configless_slurm_conf() {
  [[ "$CONFIGLESS" == 1 ]] || return 0
  cat <<EOF
# Configless: slurmd's and sackd fetch slurm.conf, gres.conf, cgroup.conf and
# plugstack.conf from slurmctld (container/lib/configless.sh).
SlurmctldParameters=enable_configless
# sackd listens for pushed reconfigurations on SlurmdPort; the slurmd's
# have their own ports (NodeName ... Port=).
SlurmdPort=$SACKD_PORT
EOF
}

# The hetpolicy command that writes plugstack.conf's line (built by
# configless_build, or the installed package's).
configless_cli() {
  if [[ "$PLUGIN_SOURCE" == installed ]]; then
    command -v hetpolicy || echo /usr/bin/hetpolicy
  else
    echo "${CARGO_TARGET_DIR:-$REPO/target}/release/hetpolicy"
  fi
}

# Builds the hetpolicy command (it needs no Slurm headers) for
# configless_plugstack_line.
configless_build() {
  [[ "$CONFIGLESS" == 1 && "$SKIP_BUILD" != 1 && "$PLUGIN_SOURCE" != installed ]] || return 0
  (cd "$REPO" && cargo build --release -p hetpolicy --target-dir "${CARGO_TARGET_DIR:-$REPO/target}") >&2 ||
    die "building the hetpolicy command failed"
}

# plugstack.conf's line in configless mode: nodes have no policy file, so
# it carries the site options of $DIR/etc/hetpolicy.yaml itself. A policy
# the command cannot read (a test may install a broken one) gets the line
# without options: slurmctld refuses every job then anyway.
configless_plugstack_line() {
  local cli line
  cli=$(configless_cli)
  [[ -x "$cli" ]] || die "no hetpolicy command at $cli"
  if line=$("$cli" plugstack --state-dir "$DIR/spool/hetpolicy" "$DIR/etc/hetpolicy.yaml"); then
    printf '%s\n' "$line"
  else
    log "\`$cli plugstack $DIR/etc/hetpolicy.yaml\` failed: plugstack.conf gets no site options"
    echo "required spank_hetpolicy.so state_dir=$DIR/spool/hetpolicy"
  fi
}

# ---------------------------------------------------------------- daemons

# PRIVATE_RUN: a command prefix that runs its command in a private mount
# namespace whose /run/munge is $DIR/munge and whose /run/slurm is the
# directory $1 (see the top), in the chroot's /run for a chroot release.
# Without --fork: the command keeps unshare's pid.
PRIVATE_RUN=()
private_run() {
  local run_slurm=$1
  mkdir -p "$run_slurm"
  if [[ -n "$CHROOT" ]]; then
    mkdir -p "$CHROOT/run/slurm" "$CHROOT/run/munge"
  else
    mkdir -p "$run_slurm.host-run"
  fi
  # shellcheck disable=SC2016 # the inner shell expands them
  PRIVATE_RUN=(unshare --mount --propagation private sh -c '
    set -e
    root=$1 run_slurm=$2 munge=$3
    shift 3
    if [ -z "$root" ]; then
      # The host: a tmpfs /run with links to the host'"'"'s own entries.
      mount --rbind /run "$run_slurm.host-run"
      mount -t tmpfs -o mode=0755 tmpfs /run
      for entry in "$run_slurm.host-run"/* "$run_slurm.host-run"/.[!.]*; do
        [ -e "$entry" ] || [ -L "$entry" ] || continue
        case "${entry##*/}" in slurm | munge) continue ;; esac
        ln -s "$entry" "/run/${entry##*/}"
      done
      mkdir /run/slurm /run/munge
    fi
    mount --bind "$run_slurm" "$root/run/slurm"
    mount --bind "$munge" "$root/run/munge"
    exec "$@"
  ' sh "$CHROOT" "$run_slurm" "$DIR/munge")
}

# slurmd NODE, configless: --conf-server, no -f and no SLURM_CONF.
# HETPOLICY_CLUSTER_DIR in its environment marks it as this cluster's for
# container/cluster's strays (its command line names no file under $DIR).
start_configless_slurmd() {
  local node=$1
  private_run "$DIR/run/slurmd-$node"
  "${PRIVATE_RUN[@]}" env -u SLURM_CONF HETPOLICY_CLUSTER_DIR="$DIR" \
    slurmd -N "$node" --conf-server "127.0.0.1:$CTLD_PORT"
}

sackd_answers() {
  [[ -s "$SACKD_RUN/conf/slurm.conf" ]] && port_in_use "$SACKD_PORT"
}

# sackd in the foreground (-D: it logs to stderr, and a reconfiguration
# re-executes it in place, keeping its pid), detached with setsid, by its
# absolute path (it re-executes its argv[0]). Its pid file is ours.
start_sackd() {
  has_sackd || return 0
  private_run "$SACKD_RUN"
  # shellcheck disable=SC2016 # the inner shell expands $$
  setsid -f sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$SACKD_PID" \
    "${PRIVATE_RUN[@]}" chroot "$CHROOT" /usr/bin/env -C / -u SLURM_CONF \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HETPOLICY_CLUSTER_DIR="$DIR" RUNTIME_DIRECTORY=/run/slurm \
    /usr/sbin/sackd -D --conf-server "127.0.0.1:$CTLD_PORT" \
    </dev/null >>"$SACKD_LOG" 2>&1
  FAIL_LOGS=("$SACKD_LOG")
  if ! wait_for 30 sackd_answers; then
    show_tail "$SACKD_LOG" "$CTLD_LOG"
    die "sackd did not fetch the configuration into $SACKD_RUN/conf and listen on port $SACKD_PORT within 30 s"
  fi
  FAIL_LOGS=()
}

# `down`: sackd. Succeeds when it stopped it.
stop_sackd() {
  local pid
  pid=$(pidfile_pid "$SACKD_PID" sackd) || return 1
  stop_pid "$pid" sackd
}

# For status/ensure: sackd runs (on the releases that have it), and the
# slurmd's and the clients have their fetched slurm.conf.
configless_healthy() {
  local node
  if has_sackd; then pidfile_pid "$SACKD_PID" sackd >/dev/null || return 1; fi
  for node in "${NODES[@]}"; do
    [[ -s "$(slurmd_conf_cache "$node")/slurm.conf" ]] || return 1
  done
  [[ -s "$(client_slurm_conf)" ]]
}

# Every fetched copy of plugstack.conf (each slurmd's, sackd's) is
# $DIR/etc's.
plugstack_fetched() {
  local node copies=()
  for node in "${NODES[@]}"; do copies+=("$(slurmd_conf_cache "$node")/plugstack.conf"); done
  if has_sackd; then copies+=("$SACKD_RUN/conf/plugstack.conf"); fi
  for node in "${copies[@]}"; do
    cmp -s "$DIR/etc/plugstack.conf" "$node" || return 1
  done
}

# After $DIR/etc changed: `scontrol reconfigure` makes slurmctld read it
# and send the new files to the slurmd's and sackd; wait until they have.
configless_push() {
  scontrol reconfigure >&2 || die "scontrol reconfigure failed"
  FAIL_LOGS=("$CTLD_LOG")
  wait_for 30 ctld_answers || die "slurmctld did not answer within 30 s of scontrol reconfigure"
  if ! wait_for 30 plugstack_fetched; then
    show_tail "$CTLD_LOG" "$DIR"/log/slurmd-*.log "$SACKD_LOG"
    die "the slurmd's and sackd did not get the new plugstack.conf within 30 s of scontrol reconfigure"
  fi
  # shellcheck disable=SC2034 # wait_for's (container/cluster)
  FAIL_LOGS=()
}

# `up`'s summary line.
configless_summary() {
  if [[ "$CONFIGLESS" != 1 ]]; then
    echo no
  elif has_sackd; then
    echo "yes: slurmd's use SlurmdSpoolDir/conf-cache, clients sackd's $(client_slurm_conf) (sackd on port $SACKD_PORT)"
  else
    echo "yes: slurmd's use SlurmdSpoolDir/conf-cache, clients slurmd $CONFIGLESS_CLIENT_NODE's $(client_slurm_conf)"
  fi
}
