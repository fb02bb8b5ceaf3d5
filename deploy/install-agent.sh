#!/bin/sh
# roadwatch agent installer (docs/RELEASE.md): a release into /opt/roadwatch, the `roadwatch` user,
# /etc/roadwatch (config), and the systemd unit roadwatch-agent.service.
#
#   sudo ./deploy/install-agent.sh                  from an unpacked release (the one holding this script)
#   sudo ./install-agent.sh roadwatch-agent-0.1.0-linux-arm64.tar.gz    a release tarball (or folder)
#   sudo ./install-agent.sh --uninstall [--purge]
#
# Options:
#   --dry-run      print every step, change nothing
#   --prefix DIR   install under DIR (an image's root file system, or a test): files only; the user,
#                  ownership and starting the service are skipped, the unit is enabled with
#                  `systemctl --root DIR` when systemctl is there
#   --no-start     install and enable, but do not (re)start the service
#   --uninstall    stop and remove the service and /opt/roadwatch; keeps /var/lib/roadwatch (the
#                  outbox: events not yet synced) and /etc/roadwatch
#   --purge        with --uninstall: also remove /var/lib/roadwatch, /etc/roadwatch and the user
#
# Upgrading is installing the new release: the config in /etc/roadwatch and the outbox are kept.
set -eu

UNIT=roadwatch-agent.service
SERVICE_USER=roadwatch
PREFIX=
DRY_RUN=0
MODE=install
PURGE=0
START=1
SOURCE=
WORK=

say() { printf '%s\n' "$*"; }
die() { printf 'install-agent: %s\n' "$*" >&2; exit 2; }
# The comment block at the top of this file, without its '#'.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }

# Runs a command, printed first; with --dry-run only printed.
run() {
  say "+ $*"
  if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}
# Like run, for what touches the live system (users, ownership, systemctl): skipped with --prefix.
system() {
  if [ -n "$PREFIX" ]; then
    say "- skipped (--prefix): $*"
  else
    run "$@"
  fi
}

while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) DRY_RUN=1 ;;
    --prefix)
      [ $# -ge 2 ] || die "--prefix needs a directory"
      PREFIX=$2
      shift
      ;;
    --prefix=*) PREFIX=${1#--prefix=} ;;
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    --no-start) START=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      [ -z "$SOURCE" ] || die "give one release (tarball or folder), not several"
      SOURCE=$1
      ;;
  esac
  shift
done

if [ -n "$PREFIX" ]; then
  case $PREFIX in
    /*) ;;
    *) PREFIX=$(pwd)/$PREFIX ;;
  esac
  PREFIX=${PREFIX%/}
fi
[ "$PURGE" = 0 ] || [ "$MODE" = uninstall ] || die "--purge goes with --uninstall"
if [ "$DRY_RUN" = 0 ] && [ -z "$PREFIX" ] && [ "$(id -u)" != 0 ]; then
  die "run as root (sudo), or see what it would do with --dry-run"
fi

OPT=$PREFIX/opt/roadwatch
ETC=$PREFIX/etc/roadwatch
STATE=$PREFIX/var/lib/roadwatch
UNIT_DIR=$PREFIX/etc/systemd/system
BIN_LINK=$PREFIX/usr/local/bin/roadwatch

cleanup() { if [ -n "$WORK" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The release folder to install: the argument (a folder or a .tar.gz), else the release this script is in.
find_release() {
  if [ -z "$SOURCE" ]; then
    here=$(cd "$(dirname "$0")" && pwd)
    RELEASE=$(dirname "$here")
  elif [ -d "$SOURCE" ]; then
    RELEASE=$(cd "$SOURCE" && pwd)
  elif [ -f "$SOURCE" ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/roadwatch-install.XXXXXX")
    say "unpacking $SOURCE"
    tar -xzf "$SOURCE" -C "$WORK" || die "cannot unpack $SOURCE (a roadwatch-agent-*.tar.gz release?)"
    RELEASE=
    for dir in "$WORK"/*/; do
      [ -z "$RELEASE" ] || die "$SOURCE holds more than one folder: not a roadwatch release"
      RELEASE=${dir%/}
    done
    [ -n "$RELEASE" ] || die "$SOURCE is empty"
  else
    die "$SOURCE: no such file or folder"
  fi
  if [ ! -x "$RELEASE/roadwatch" ] || [ ! -d "$RELEASE/lib" ] || [ ! -f "$RELEASE/deploy/$UNIT" ]; then
    die "$RELEASE is not a roadwatch release (roadwatch, lib/ and deploy/$UNIT expected) — pass the release tarball, or run the script from an unpacked release"
  fi
}

# Copies a config example into place unless the file exists (never overwrites a device's config).
install_config() {
  if [ -e "$2" ]; then
    say "keeping $2"
  else
    run install -m 0640 "$1" "$2"
    system chgrp "$SERVICE_USER" "$2"
  fi
}

do_install() {
  find_release
  version=$(basename "$RELEASE")
  say "installing $version into $OPT"

  if [ -z "$PREFIX" ]; then
    for group in dialout video; do
      getent group "$group" >/dev/null || run groupadd --system "$group"
    done
    getent group "$SERVICE_USER" >/dev/null || run groupadd --system "$SERVICE_USER"
    if id "$SERVICE_USER" >/dev/null 2>&1; then
      run usermod --append --groups dialout,video "$SERVICE_USER"
    else
      run useradd --system --gid "$SERVICE_USER" --groups dialout,video --home-dir /var/lib/roadwatch \
        --no-create-home --shell /usr/sbin/nologin --comment "roadwatch agent" "$SERVICE_USER"
    fi
  else
    say "- skipped (--prefix): user $SERVICE_USER in groups dialout, video"
  fi

  # The new release beside the old one, then swapped in: a failed copy leaves the old one running.
  run mkdir -p "$(dirname "$OPT")"
  run rm -rf "$OPT.new" "$OPT.old"
  run cp -R "$RELEASE" "$OPT.new"
  system chown -R root:root "$OPT.new"
  if [ -e "$OPT" ]; then run mv "$OPT" "$OPT.old"; fi
  run mv "$OPT.new" "$OPT"
  run rm -rf "$OPT.old"
  run mkdir -p "$(dirname "$BIN_LINK")"
  run ln -sfn /opt/roadwatch/roadwatch "$BIN_LINK"

  run mkdir -p "$ETC"
  run chmod 0750 "$ETC"
  system chgrp "$SERVICE_USER" "$ETC"
  install_config "$RELEASE/deploy/agent.env.example" "$ETC/agent.env"
  install_config "$RELEASE/deploy/agent.json.example" "$ETC/agent.json"
  # systemd creates it too (StateDirectory=); made here so `roadwatch queue` works before the first start.
  run mkdir -p "$STATE"
  run chmod 0750 "$STATE"
  system chown "$SERVICE_USER:$SERVICE_USER" "$STATE"

  run mkdir -p "$UNIT_DIR"
  run install -m 0644 "$RELEASE/deploy/$UNIT" "$UNIT_DIR/$UNIT"
  if [ -n "$PREFIX" ]; then
    if command -v systemctl >/dev/null 2>&1; then
      run systemctl --root="$PREFIX" --quiet enable "$UNIT"
    else
      say "- skipped: systemctl is not installed (enable $UNIT in the image)"
    fi
  else
    run systemctl daemon-reload
    run systemctl enable "$UNIT"
  fi

  command -v ffmpeg >/dev/null 2>&1 || say "note: ffmpeg is not installed — the camera needs it: apt install ffmpeg"
  if [ -n "$PREFIX" ] || [ "$START" = 0 ]; then
    say "installed; start it with: systemctl start $UNIT"
  elif ! grep -Eq '^ROADWATCH_DEVICE_SECRET=.+' "$ETC/agent.env" 2>/dev/null; then
    say "installed, not started: set ROADWATCH_DEVICE_ID and ROADWATCH_DEVICE_SECRET in $ETC/agent.env (roadwatch-hub devices add <id> prints the secret),"
    say "check $ETC/agent.json, then: systemctl start $UNIT && journalctl -u $UNIT -f"
  else
    run systemctl restart "$UNIT"
    say "running: systemctl status $UNIT; logs: journalctl -u $UNIT -f; checks: roadwatch doctor"
  fi
}

do_uninstall() {
  say "removing the roadwatch agent from ${PREFIX:-/}"
  if [ -n "$PREFIX" ]; then
    if command -v systemctl >/dev/null 2>&1 && [ -f "$UNIT_DIR/$UNIT" ]; then
      run systemctl --root="$PREFIX" --quiet disable "$UNIT"
    fi
  elif [ -f "$UNIT_DIR/$UNIT" ]; then
    run systemctl disable --now "$UNIT"
  fi
  run rm -f "$UNIT_DIR/$UNIT"
  system systemctl daemon-reload
  run rm -rf "$OPT" "$OPT.new" "$OPT.old"
  if [ -L "$BIN_LINK" ]; then run rm -f "$BIN_LINK"; fi
  if [ "$PURGE" = 1 ]; then
    run rm -rf "$STATE" "$ETC"
    if [ -z "$PREFIX" ] && id "$SERVICE_USER" >/dev/null 2>&1; then
      run userdel "$SERVICE_USER"
      if getent group "$SERVICE_USER" >/dev/null; then run groupdel "$SERVICE_USER"; fi
      say "removed the user $SERVICE_USER"
    fi
    say "removed, with the outbox and the config"
  else
    say "removed; kept $STATE (the outbox: events not yet synced) and $ETC — --uninstall --purge removes them"
  fi
}

if [ "$MODE" = install ]; then do_install; else do_uninstall; fi
