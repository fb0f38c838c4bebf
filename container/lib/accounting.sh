# shellcheck shell=bash
# container/lib/accounting.sh: Slurm accounting for container/cluster's
# `up --accounting` (sourced by container/cluster).
#
# A MariaDB server and a slurmdbd from Debian's packages (the host's for
# 22.05, the chroot's own for 24.11 and 26.05), every file of theirs under
# $DIR: MariaDB listens on a unix socket only (skip-networking), slurmdbd on
# 127.0.0.1:$DBD_PORT (PORT_BASE+5). The database is created afresh by every
# `up`, like slurmctld's state. Then sacctmgr creates the cluster, the
# accounts, users, associations and QOS the tests expect (see
# acct_populate), before slurmctld starts: with
# AccountingStorageEnforce=associations,limits,qos Slurm itself refuses a
# job whose user/account pair has no association.
#
# The packages are installed only when --accounting is used: on the host
# with the same apt-get path as `deps`; into a chroot on demand, recorded
# by a second marker ($CHROOT/.hetpolicy-accounting), so the chroot's base
# recipe (CHROOT_RECIPE), and with it every cached chroot, stays as it is.
#
# The caller sets ACCOUNTING (0/1), DIR, PORT_BASE, CHROOT (empty for the
# host), CHROOT_SUITE, MUNGE_SOCKET, SLURM_CONF, RELEASE, and provides log,
# die, show_tail, wait_for, pidfile_pid, stop_pid, port_in_use,
# apt_install_missing, mount_system, chroot_root and FAIL_LOGS.

ACCT_PACKAGES=(mariadb-server-core mariadb-client-core slurmdbd)
ACCT_MARKER="$CHROOT/.hetpolicy-accounting"
# Bumped when what acct_root installs changes: the chroot gets it again.
ACCT_RECIPE="packages=${ACCT_PACKAGES[*]} recipe=1"

DBD_PORT=$((PORT_BASE + 5))
DB_DIR="$DIR/mysql"
DB_SOCKET="$DB_DIR/mysqld.sock"
DB_PID="$DB_DIR/mysqld.pid"
DB_LOG="$DIR/log/mariadb.log"
DBD_CONF="$DIR/etc/slurmdbd.conf"
DBD_PID="$DIR/run/slurmdbd.pid"
DBD_LOG="$DIR/log/slurmdbd.log"
# Written by `up --accounting`: the running cluster has accounting.
ACCT_FLAG="$DIR/run/accounting"

# The accounts, users and groups of the test cluster. Keep them in step
# with tests/cluster_accounting.rs.
ACCT_ACCOUNTS=(physics chem)
ACCT_USERS=(alice bob carol mallory)
ACCT_GROUP=hpcadmin   # carol's supplementary group
# user: accounts (the first is the default)
declare -A ACCT_ASSOC=([alice]=physics [bob]="chem,physics" [carol]=chem [mallory]=chem)
# The QOS of tests/fixtures/policy.yaml, with Slurm's equivalents of its
# limits (max_time: MaxWall; max_gres: MaxTRESPerJob gres/gpu; max_nodes:
# MaxTRESPerJob node). DenyOnLimit: refused at submission, as hetpolicy
# refuses, instead of left pending.
ACCT_QOS=(normal gpu long)
declare -A ACCT_QOS_LIMITS=(
  [normal]="MaxWall=1-00:00:00 MaxTRESPerJob=gres/gpu=1"
  [gpu]="MaxWall=2-00:00:00 MaxTRESPerJob=gres/gpu=2"
  [long]="MaxWall=7-00:00:00 MaxTRESPerJob=gres/gpu=0,node=2"
)

# Runs a command of the accounting packages: on the host, or in the chroot
# (whose /proc, /dev, /sys and $DIR are mounted by then) with the given
# environment.
ACCT_RUN=(env)
if [[ -n "$CHROOT" ]]; then
  ACCT_RUN=(chroot "$CHROOT" /usr/bin/env -C / PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
fi
acct_run() { "${ACCT_RUN[@]}" "$@"; }

# ---------------------------------------------------------------- packages

# The packages for the host's release (added to `deps`'s list).
acct_host_packages() {
  [[ "$ACCOUNTING" == 1 && -z "$CHROOT" ]] && printf '%s\n' "${ACCT_PACKAGES[@]}"
  return 0
}

# Installs MariaDB and slurmdbd into the cached chroot unless its second
# marker says they are there. slurmdbd is pinned to the chroot's slurmctld
# version: a suite that moved on must not upgrade the chroot's Slurm.
acct_root() {
  [[ -n "$CHROOT" ]] || return 0
  chroot_add_packages "accounting packages" "$ACCT_MARKER" "$ACCT_RECIPE" "$CHROOT.accounting.log" \
    "${ACCT_PACKAGES[@]/#slurmdbd/slurmdbd=@SLURM@}"
}

# ---------------------------------------------------------------- users

# The test users and their group on the host (no home, no login), and, for
# a chroot release, in the chroot too with the same ids: its daemons and
# clients resolve names with the chroot's own /etc/passwd and /etc/group
# (a copy debootstrap made, not the host's).
acct_users() {
  local user
  getent group "$ACCT_GROUP" >/dev/null || groupadd "$ACCT_GROUP" || die "groupadd $ACCT_GROUP failed"
  for user in "${ACCT_USERS[@]}"; do
    if ! getent passwd "$user" >/dev/null; then
      useradd --no-create-home --user-group --shell /usr/sbin/nologin "$user" || die "useradd $user failed"
    fi
  done
  id -nG carol | tr ' ' '\n' | grep -x "$ACCT_GROUP" >/dev/null || usermod -aG "$ACCT_GROUP" carol
  [[ -n "$CHROOT" ]] || return 0

  local name gid uid group other
  for group in "$ACCT_GROUP" "${ACCT_USERS[@]}"; do
    IFS=: read -r name _ gid _ < <(getent group "$group") || die "no group $group on the host"
    other=$(chroot "$CHROOT" getent group "$gid" | cut -d: -f1) || true
    if [[ -z "$other" ]]; then
      chroot "$CHROOT" getent group "$name" >/dev/null &&
        die "group $name has another gid in $CHROOT than on the host ($gid): remove it there (chroot $CHROOT groupdel $name)"
      chroot "$CHROOT" groupadd -g "$gid" "$name" || die "groupadd $name in $CHROOT failed"
    elif [[ "$other" != "$name" ]]; then
      die "gid $gid is $other in $CHROOT but $name on the host: give $name another gid on the host"
    fi
  done
  for user in "${ACCT_USERS[@]}"; do
    IFS=: read -r name _ uid gid _ < <(getent passwd "$user")
    other=$(chroot "$CHROOT" getent passwd "$uid" | cut -d: -f1) || true
    if [[ -z "$other" ]]; then
      chroot "$CHROOT" getent passwd "$name" >/dev/null &&
        die "user $name has another uid in $CHROOT than on the host ($uid): remove it there (chroot $CHROOT userdel $name)"
      chroot "$CHROOT" useradd --no-create-home --uid "$uid" --gid "$gid" --shell /usr/sbin/nologin "$name" ||
        die "useradd $name in $CHROOT failed"
    elif [[ "$other" != "$name" ]]; then
      die "uid $uid is $other in $CHROOT but $name on the host: give $name another uid on the host"
    fi
  done
  chroot "$CHROOT" id -nG carol | tr ' ' '\n' | grep -x "$ACCT_GROUP" >/dev/null ||
    chroot "$CHROOT" usermod -aG "$ACCT_GROUP" carol
}

# ---------------------------------------------------------------- config

# slurm.conf's accounting lines (without --accounting: exactly today's).
acct_slurm_conf() {
  if [[ "$ACCOUNTING" != 1 ]]; then
    echo "AccountingStorageType=accounting_storage/none"
    return 0
  fi
  cat <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# Clients and slurmctld reach slurmdbd through our munged: for slurmdbd
# connections this names the munge socket (AuthInfo does not apply).
AccountingStoragePass=$MUNGE_SOCKET
AccountingStorageEnforce=associations,limits,qos
# QOS limits on GPUs need the gres/gpu TRES.
AccountingStorageTRES=gres/gpu,gres/qpu
EOF
}

# slurmdbd.conf: slurmdbd finds it next to \$SLURM_CONF and refuses it
# unless it is mode 0600 and owned by SlurmUser (root here, as slurm.conf).
acct_write_dbd_conf() {
  local password=$1 tmp="$DBD_CONF.tmp.$$"
  (
    umask 077
    cat >"$tmp" <<EOF
# Generated by container/cluster (container/lib/accounting.sh); rewritten by every \`up --accounting\`.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$DBD_LOG
PidFile=$DBD_PID
StorageType=accounting_storage/mysql
# localhost: the unix socket MYSQL_UNIX_PORT names (MariaDB has no TCP).
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurmdbd
StoragePass=$password
EOF
  )
  chown root:root "$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$DBD_CONF"
}

# ---------------------------------------------------------------- daemons

# (mariadb-admin is in mariadb-client, not in the -core packages.)
db_answers() {
  acct_run mariadb --no-defaults --socket="$DB_SOCKET" --user=root -e 'SELECT 1' >/dev/null 2>&1
}

db_sql() {
  acct_run mariadb --no-defaults --socket="$DB_SOCKET" --user=root --batch -e "$1"
}

# MariaDB: a fresh data directory, then mariadbd with explicit options only
# (--no-defaults: the system's /etc/mysql is never read), as root.
start_mariadb() {
  local password=$1 options
  rm -rf "$DB_DIR"
  mkdir -p "$DB_DIR/data" "$DB_DIR/tmp"
  chmod 0700 "$DB_DIR"
  # Small InnoDB files: a test database is tiny, and 2 cores are slow to
  # write the defaults' 96 MB redo log.
  options=(--datadir="$DB_DIR/data" --tmpdir="$DB_DIR/tmp" --innodb-buffer-pool-size=32M
    --innodb-log-file-size=8M --innodb-lock-wait-timeout=900 --skip-networking)
  acct_run mariadb-install-db --no-defaults --user=root --auth-root-authentication-method=socket \
    --skip-test-db "${options[@]}" </dev/null >"$DIR/log/mariadb-install-db.out" 2>&1 || {
    show_tail "$DIR/log/mariadb-install-db.out"
    die "mariadb-install-db failed (is ${ACCT_PACKAGES[*]} installed${CHROOT:+ in $CHROOT}?)"
  }
  # mariadbd does not daemonize: setsid -f detaches it from us and our caller.
  setsid -f "${ACCT_RUN[@]}" mariadbd --no-defaults --user=root "${options[@]}" \
    --socket="$DB_SOCKET" --pid-file="$DB_PID" --log-error="$DB_LOG" \
    </dev/null >>"$DIR/log/mariadb.out" 2>&1
  if ! wait_for 60 db_answers; then
    show_tail "$DIR/log/mariadb.out" "$DB_LOG"
    die "MariaDB did not answer on $DB_SOCKET within 60 s"
  fi
  db_sql "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurmdbd'@'localhost' IDENTIFIED BY '$password';
GRANT ALL ON slurm_acct_db.* TO 'slurmdbd'@'localhost';" ||
    die "creating slurm_acct_db and its user failed (log: $DB_LOG)"
}

dbd_answers() {
  port_in_use "$DBD_PORT" && sacctmgr -n show cluster >/dev/null 2>&1
}

start_slurmdbd() {
  # slurmdbd daemonizes; it reads slurmdbd.conf from $SLURM_CONF's directory.
  acct_run SLURM_CONF="$SLURM_CONF" MYSQL_UNIX_PORT="$DB_SOCKET" slurmdbd \
    </dev/null >>"$DIR/log/slurmdbd.out" 2>&1 || {
    show_tail "$DIR/log/slurmdbd.out" "$DBD_LOG"
    die "slurmdbd failed to start"
  }
  # The first start creates the tables: slow on a small machine.
  FAIL_LOGS=("$DBD_LOG" "$DIR/log/slurmdbd.out")
  if ! wait_for 120 dbd_answers; then
    show_tail "$DIR/log/slurmdbd.out" "$DBD_LOG"
    die "slurmdbd did not answer sacctmgr on 127.0.0.1:$DBD_PORT within 120 s"
  fi
  # shellcheck disable=SC2034 # wait_for's (container/cluster)
  FAIL_LOGS=()
}

# sacctmgr -i, tolerating "already there" (the calls are idempotent).
sacct() {
  local out rc=0
  out=$(sacctmgr -i "$@" 2>&1) || rc=$?
  if ((rc)) && ! grep -qiE 'nothing new added|nothing modified|already exist' <<<"$out"; then
    printf '%s\n' "$out" >&2
    die "sacctmgr $* failed (exit $rc); slurmdbd log: $DBD_LOG"
  fi
}

# The cluster's accounts, users, associations and QOS (see the top).
acct_populate() {
  local qos user all_qos
  all_qos=$(IFS=,; echo "${ACCT_QOS[*]}")
  # Adding the cluster also adds the root account and root's association.
  sacct add cluster hetpolicy
  for qos in "${ACCT_QOS[@]}"; do sacct add qos "$qos"; done
  sacct add account "$(IFS=,; echo "${ACCT_ACCOUNTS[*]}")" cluster=hetpolicy Description=test Organization=hetpolicy
  for user in "${ACCT_USERS[@]}"; do
    sacct add user "$user" cluster=hetpolicy account="${ACCT_ASSOC[$user]}" defaultaccount="${ACCT_ASSOC[$user]%%,*}"
  done
  # root submits most test jobs, nobody a few (tests/cluster_readings.rs):
  # with enforced associations they need one; root stays an admin.
  sacct add user nobody cluster=hetpolicy account=root defaultaccount=root
  sacct modify user where name=root set adminlevel=Admin
  sacct modify account where name=root,"$(IFS=,; echo "${ACCT_ACCOUNTS[*]}")" cluster=hetpolicy \
    set qos="$all_qos" defaultqos=normal
  sacct modify user where name=root,nobody,"$(IFS=,; echo "${ACCT_USERS[*]}")" cluster=hetpolicy \
    set qos="$all_qos" defaultqos=normal
}

gpu_tres_known() {
  sacctmgr -nP show tres format=type,name 2>/dev/null | grep -x 'gres|gpu' >/dev/null
}

# The QOS limits, once slurmctld runs: a gres/gpu limit needs the gres/gpu
# TRES, which slurmdbd learns only when slurmctld registers
# (AccountingStorageTRES). slurmdbd sends the change on to slurmctld.
acct_qos_limits() {
  local qos
  wait_for 30 gpu_tres_known || die "slurmctld did not register the gres/gpu TRES with slurmdbd within 30 s (logs: $CTLD_LOG, $DBD_LOG)"
  for qos in "${ACCT_QOS[@]}"; do
    # shellcheck disable=SC2086 # a word list
    sacct modify qos where name="$qos" set ${ACCT_QOS_LIMITS[$qos]} Flags=DenyOnLimit
  done
}

# `up --accounting`, before slurmctld starts: users, MariaDB, slurmdbd, the
# associations.
start_accounting() {
  local password t0=$SECONDS
  acct_users
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  acct_write_dbd_conf "$password"
  start_mariadb "$password"
  start_slurmdbd
  acct_populate
  : >"$ACCT_FLAG"
  log "accounting up in $((SECONDS - t0)) s: slurmdbd on 127.0.0.1:$DBD_PORT, MariaDB on $DB_SOCKET"
}

# `down`: slurmdbd (after slurmctld, which sends it its last records), then
# MariaDB. Succeeds when it stopped something.
stop_accounting() {
  local pid stopped=1
  if pid=$(pidfile_pid "$DBD_PID" slurmdbd); then
    stop_pid "$pid" slurmdbd
    stopped=0
  fi
  if pid=$(pidfile_pid "$DB_PID" mariadbd); then
    # mariadbd flushes InnoDB on TERM: give it time before stop_pid's KILL.
    stop_pid "$pid" mariadbd
    stopped=0
  fi
  rm -f "$ACCT_FLAG"
  return "$stopped"
}

# For status/ensure: both accounting daemons run and slurmdbd answers.
accounting_healthy() {
  pidfile_pid "$DB_PID" mariadbd >/dev/null && pidfile_pid "$DBD_PID" slurmdbd >/dev/null && dbd_answers
}
