# shellcheck shell=bash
# container/lib/chroot.sh: the Debian chroots in which container/cluster runs
# Slurm releases other than the host's own (sourced by container/cluster).
#
# A chroot holds one Debian suite's slurmctld, slurmd, slurm-client, munge
# and libslurm-dev. It is built once with debootstrap (--variant=minbase),
# from the mirror of the host's own apt sources, then cached; a marker file
# records the recipe it was built from, and a chroot whose recipe differs is
# rebuilt (never while a process runs in it). The plugins are built on the
# host against the chroot's headers (a library built on Debian 12's glibc
# runs on a newer one). Each Slurm and munge command runs in the chroot
# through a wrapper of the same name in $DIR/bin, put first on PATH, with
# the caller's environment and working directory. The repository
# (read-only) and the cluster directory are bind-mounted into the chroot at
# the same paths, and /proc, /dev and /sys, so every path means the same
# inside and outside.
#
# The caller sets:
#   CHROOT          the chroot directory (absolute, two levels deep at least)
#   CHROOT_SUITE    the Debian suite (trixie, forky)
#   CHROOT_SCRIPT   debootstrap's script for it, when the host's debootstrap
#                   has none of that name (forky: sid's); empty otherwise
#   CHROOT_APT_CONF lines for the chroot's /etc/apt/apt.conf.d (written before
#                   its first apt-get, kept for later ones); empty for none
#   CHROOT_PACKAGES the packages the chroot gets (an array)
#   CHROOT_RECIPE   what the marker records; a change rebuilds the chroot
#   REPO, DIR       the repository and the cluster directory
# and provides log and die. Needs root (debootstrap, chroot, mount).

CHROOT_MARKER="$CHROOT/.hetpolicy-root"
WRAPPERS="$DIR/bin"

# ---------------------------------------------------------------- mirror

# The host's Debian mirror: the first enabled `deb` source of its own suite
# (VERSION_CODENAME, e.g. bookworm; not -security or -updates), in deb822
# files (*.sources) or one-line lists (sources.list, *.list).
host_mirror() {
  local codename files=() f
  codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
  [[ -n "$codename" ]] || return 1
  for f in /etc/apt/sources.list.d/*.sources; do [[ -f "$f" ]] && files+=("$f"); done
  if ((${#files[@]})); then
    awk -v suite="$codename" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no" && uri != "" && !found) {
          print uri; found = 1
        }
        types = ""; suites = ""; uri = ""; enabled = ""
      }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { flush() }
    ' "${files[@]}" | head -n1 | grep . && return 0
  fi
  files=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [[ -f "$f" ]] && files+=("$f"); done
  ((${#files[@]})) || return 1
  # deb [options] URI SUITE COMPONENTS...
  awk -v suite="$codename" '
    $1 != "deb" { next }
    {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; exit }
    }
  ' "${files[@]}" | head -n1 | grep .
}

# ---------------------------------------------------------------- mounts

# Is PATH a mount point (exactly)? Reads mountinfo: no util-linux needed.
is_mounted() {
  awk -v p="$1" '$5 == p {found = 1} END {exit !found}' /proc/self/mountinfo
}

# Mount points at or under PATH, deepest first.
mounts_under() {
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}

# Does any process run inside the chroot at PATH (its root is there)?
root_in_use() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/root" 2>/dev/null)" == "$1" ]] && return 0
  done
  return 1
}

mount_system() {
  local root=$1
  is_mounted "$root/proc" || mount -t proc proc "$root/proc"
  is_mounted "$root/dev" || mount --bind /dev "$root/dev"
  is_mounted "$root/sys" || mount --bind /sys "$root/sys"
}

# The repository (read-only) and the cluster directory (read-write) at the
# same paths inside the chroot.
mount_cluster() {
  mount_system "$CHROOT"
  mkdir -p "$DIR"
  if ! is_mounted "$CHROOT$REPO"; then
    mkdir -p "$CHROOT$REPO"
    mount --bind "$REPO" "$CHROOT$REPO"
    mount -o remount,bind,ro "$CHROOT$REPO"
  fi
  if ! is_mounted "$CHROOT$DIR"; then
    # Under a read-only repository the directory already shows through.
    [[ -d "$CHROOT$DIR" ]] || mkdir -p "$CHROOT$DIR"
    mount --bind "$DIR" "$CHROOT$DIR"
  fi
}

# Unmounts this cluster's directory, and the repository and system mounts
# unless another process still runs in the chroot (another cluster).
umount_cluster() {
  [[ -d "$CHROOT" ]] || return 0
  if is_mounted "$CHROOT$DIR"; then umount "$CHROOT$DIR"; fi
  if root_in_use "$CHROOT"; then
    log "processes still run in $CHROOT: leaving its /proc, /dev, /sys and $REPO mounted"
    return 0
  fi
  local m
  for m in $(mounts_under "$CHROOT"); do umount "$m"; done
}

# ---------------------------------------------------------------- the chroot

chroot_ready() {
  [[ -f "$CHROOT_MARKER" ]] && [[ "$(head -n1 "$CHROOT_MARKER")" == "$CHROOT_RECIPE" ]]
}

# Removes a chroot directory, refusing if anything is mounted under it.
remove_root_dir() {
  local dir=$1 m
  [[ -e "$dir" ]] || return 0
  for m in $(mounts_under "$dir"); do umount "$m"; done
  [[ -z "$(mounts_under "$dir")" ]] || die "cannot remove $dir: still mounted: $(mounts_under "$dir" | tr '\n' ' ')"
  rm -rf --one-file-system -- "$dir"
}

build_root() {
  local mirror new="$CHROOT.new" t0=$SECONDS script=()
  mirror=${HETPOLICY_DEBIAN_MIRROR:-$(host_mirror)} ||
    die "no Debian mirror found in /etc/apt (set HETPOLICY_DEBIAN_MIRROR)"
  command -v debootstrap >/dev/null 2>&1 || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null
  }
  if [[ -n "$CHROOT_SCRIPT" ]]; then
    script=("/usr/share/debootstrap/scripts/$CHROOT_SCRIPT")
    [[ -f "${script[0]}" ]] || die "debootstrap has no script ${script[0]}"
  fi
  root_in_use "$CHROOT" && die "processes run in $CHROOT: stop them (container/cluster --slurm $RELEASE down) before it is rebuilt"
  remove_root_dir "$new"
  mkdir -p "$new"
  log "debootstrap $CHROOT_SUITE${script[0]:+ (script ${script[0]})} from $mirror into $new"
  debootstrap --variant=minbase "$CHROOT_SUITE" "$new" "$mirror" ${script[@]+"${script[@]}"} >"$new.log" 2>&1 || {
    tail -n 30 "$new.log" >&2
    die "debootstrap failed (whole log: $new.log)"
  }
  log "debootstrap done in $((SECONDS - t0)) s; installing ${CHROOT_PACKAGES[*]}"
  cp /etc/hosts /etc/resolv.conf "$new/etc/"
  if [[ -n "$CHROOT_APT_CONF" ]]; then
    printf '// Written by container/cluster (container/lib/chroot.sh).\n%s\n' "$CHROOT_APT_CONF" \
      >"$new/etc/apt/apt.conf.d/99hetpolicy"
  fi
  # Maintainer scripts must not start munge or Slurm daemons in the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
  chmod 0755 "$new/usr/sbin/policy-rc.d"
  mount_system "$new"
  local rc=0
  {
    chroot "$new" env DEBIAN_FRONTEND=noninteractive apt-get update &&
      chroot "$new" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${CHROOT_PACKAGES[@]}" &&
      chroot "$new" apt-get clean
  } >>"$new.log" 2>&1 || rc=$?
  local m
  for m in $(mounts_under "$new"); do umount "$m"; done
  if ((rc)); then
    tail -n 30 "$new.log" >&2
    die "apt-get in the chroot failed (whole log: $new.log)"
  fi
  # Debian reaches slurmctld, slurmd and slurmstepd through alternatives
  # symlinks to *-wlm, and 23.11+'s daemons re-execute /proc/self/exe (on
  # reconfigure), which would rename them slurmctld-wlm etc.: container/cluster
  # finds its daemons by name, so give the binaries their plain names.
  local daemon
  for daemon in slurmctld slurmd slurmstepd; do
    if [[ -L "$new/usr/sbin/$daemon" && -f "$new/usr/sbin/$daemon-wlm" ]]; then
      ln -f "$new/usr/sbin/$daemon-wlm" "$new/usr/sbin/$daemon"
    fi
  done
  {
    echo "$CHROOT_RECIPE"
    chroot "$new" dpkg-query -W "${CHROOT_PACKAGES[@]}"
  } >"$new/.hetpolicy-root.tmp"
  mv "$new/.hetpolicy-root.tmp" "$new/.hetpolicy-root"
  remove_root_dir "$CHROOT"
  mv "$new" "$CHROOT"
  mv -f "$new.log" "$CHROOT.log"
  log "built $CHROOT in $((SECONDS - t0)) s: $(sed -n 's/^slurmctld\t//p' "$CHROOT_MARKER")"
}

# Builds the chroot unless it is there and current (checked once a run).
CHROOT_CHECKED=0
chroot_root() {
  ((CHROOT_CHECKED)) && return 0
  mkdir -p "$(dirname "$CHROOT")"
  # One builder at a time; others wait for it.
  local lock
  exec {lock}>"$CHROOT.lock"
  flock "$lock"
  if chroot_ready; then
    log "using $CHROOT ($(sed -n 's/^slurmctld\t//p' "$CHROOT_MARKER"))"
  else
    build_root
  fi
  exec {lock}>&-
  chroot_check_release
  CHROOT_CHECKED=1
}

# "26.05.5": the Slurm release of the headers in the include directory $1.
headers_release() {
  local header=$1/slurm/slurm_version.h number
  [[ -f "$header" ]] || die "no $header (libslurm-dev is not installed there)"
  number=$(sed -n 's/^#define SLURM_VERSION_NUMBER 0x\([0-9a-fA-F]*\).*/\1/p' "$header")
  [[ -n "$number" ]] || die "no SLURM_VERSION_NUMBER in $header"
  printf '%d.%02d.%d\n' "$((16#$number >> 16))" "$((16#$number >> 8 & 255))" "$((16#$number & 255))"
}

# The chroot must hold the release it is used for (the suite may move on).
chroot_check_release() {
  local found
  found=$(headers_release "$CHROOT/usr/include")
  [[ "$found" == "$RELEASE".* ]] ||
    die "$CHROOT holds Slurm $found, not $RELEASE (Debian $CHROOT_SUITE moved on?): point HETPOLICY_CHROOT elsewhere or remove it"
}

# ---------------------------------------------------------------- wrappers

# One wrapper per executable of the chroot's Slurm and munge packages: it
# runs that command in the chroot with the caller's environment and working
# directory (/ when that directory is not visible inside), and the chroot's
# own PATH, so that job scripts and slurmd's children find its commands too.
# With HETPOLICY_RUN_AS=USER in its environment (a user name or uid of the
# chroot), the command runs as that user, as `runuser -u USER --` would run
# it on the host (the tests run clients as other users so).
# Rewritten only when the chroot or the wrapper changed: commands may be
# running them.
wrapper_script() {
  cat <<EOF
#!/bin/sh
# Generated by container/cluster: runs the command named like this link in
# the Debian $CHROOT_SUITE chroot $CHROOT (Slurm $RELEASE).
root=$CHROOT
name=\$(basename "\$0")
dir=\$PWD
[ -d "\$root\$dir" ] || dir=/
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
user=\${HETPOLICY_RUN_AS:-}
unset HETPOLICY_RUN_AS
if [ -n "\$user" ]; then
  exec chroot --userspec="\$user" "\$root" /usr/bin/env -C "\$dir" PATH="\$path" USER="\$user" LOGNAME="\$user" "\$name" "\$@"
fi
exec chroot "\$root" /usr/bin/env -C "\$dir" PATH="\$path" "\$name" "\$@"
EOF
}

write_wrappers() {
  local stamp tmp="$WRAPPERS.tmp.$$" name
  stamp="$CHROOT $({ wrapper_script; cat "$CHROOT_MARKER"; } | md5sum | cut -d' ' -f1)"
  if [[ -f "$WRAPPERS/.stamp" && "$(cat "$WRAPPERS/.stamp")" == "$stamp" ]]; then
    return 0
  fi
  rm -rf "$tmp"
  mkdir -p "$tmp"
  wrapper_script >"$tmp/.run-in-chroot"
  chmod 0755 "$tmp/.run-in-chroot"
  # Debian installs slurmctld and slurmd as *-wlm behind alternatives.
  chroot "$CHROOT" dpkg-query -L "${CHROOT_PACKAGES[@]}" | sed -En 's#^/usr/s?bin/([^/]+)$#\1#p' |
    sed 's/-wlm$//' | sort -u >"$tmp/.commands"
  while read -r name; do
    [[ -e "$CHROOT/usr/bin/$name" || -e "$CHROOT/usr/sbin/$name" ]] && ln -s .run-in-chroot "$tmp/$name"
  done <"$tmp/.commands"
  [[ -e "$tmp/sbatch" && -e "$tmp/slurmctld" && -e "$tmp/munged" ]] || die "the chroot lacks sbatch, slurmctld or munged"
  echo "$stamp" >"$tmp/.stamp"
  # Swap the directories; when another run puts its own first (the same
  # wrappers), keep that one.
  if [[ -e "$WRAPPERS" ]]; then mv -T "$WRAPPERS" "$WRAPPERS.old.$$"; fi
  mv -T "$tmp" "$WRAPPERS" 2>/dev/null || rm -rf "$tmp"
  rm -rf "$WRAPPERS.old.$$"
}

# ---------------------------------------------------------------- extras

# chroot_add_packages WHAT MARKER RECIPE LOGFILE PACKAGE...
# Installs packages into the cached chroot on demand, unless MARKER's first
# line is RECIPE (then they are there), under the chroot's lock. `@SLURM@`
# in a PACKAGE stands for the chroot's slurmctld version, so that a suite
# that moved on cannot upgrade the chroot's Slurm; installing must leave
# slurmctld at that version. MARKER then records RECIPE and the versions.
chroot_add_packages() {
  local what=$1 marker=$2 recipe=$3 logfile=$4
  shift 4
  [[ -f "$marker" && "$(head -n1 "$marker")" == "$recipe" ]] && return 0
  local lock version rc=0 t0=$SECONDS specs=() names=() p
  exec {lock}>"$CHROOT.lock"
  flock "$lock"
  if [[ -f "$marker" && "$(head -n1 "$marker")" == "$recipe" ]]; then
    exec {lock}>&-
    return 0
  fi
  # shellcheck disable=SC2016 # dpkg-query's format, not ours
  version=$(chroot "$CHROOT" dpkg-query -W -f='${Version}' slurmctld) || die "no slurmctld in $CHROOT"
  for p in "$@"; do
    specs+=("${p//@SLURM@/$version}")
    names+=("${p%%=*}")
  done
  log "installing ${names[*]} into $CHROOT (Slurm $version; log: $logfile)"
  mount_system "$CHROOT"
  {
    chroot "$CHROOT" env DEBIAN_FRONTEND=noninteractive apt-get update &&
      chroot "$CHROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${specs[@]}" &&
      chroot "$CHROOT" apt-get clean
  } >"$logfile" 2>&1 || rc=$?
  if ((rc)); then
    exec {lock}>&-
    tail -n 30 "$logfile" >&2
    die "apt-get in $CHROOT failed installing ${specs[*]} (whole log: $logfile). If Debian $CHROOT_SUITE no longer has them for Slurm $version, rebuild the chroot: remove $CHROOT_MARKER and run container/cluster --slurm $RELEASE root"
  fi
  # shellcheck disable=SC2016 # dpkg-query's format, not ours
  [[ "$(chroot "$CHROOT" dpkg-query -W -f='${Version}' slurmctld)" == "$version" ]] ||
    die "installing ${names[*]} changed $CHROOT's slurmctld: rebuild the chroot (remove $CHROOT_MARKER; container/cluster --slurm $RELEASE root)"
  {
    echo "$recipe"
    chroot "$CHROOT" dpkg-query -W "${names[@]}"
  } >"$marker.tmp"
  mv -f "$marker.tmp" "$marker"
  exec {lock}>&-
  log "installed $what into $CHROOT in $((SECONDS - t0)) s"
}
