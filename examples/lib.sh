# Shared by the example scripts (sourced, never run): their options, their output, the binaries
# they run and the working directory they clean up. A script sets NAME (its name in messages)
# and USAGE (the sed range of its header comment) before sourcing this file.
#
#   ex_args "$@"               --dir DIR, --release, -h/--help → DIR, PROFILE
#   ex_need TOOL...            exits with a clear message when a command is missing
#   ex_build -p PKG... -- BIN...   cargo build (PROFILE) and BIN = the directory holding the binaries
#   ex_workdir PREFIX          DIR (a new temporary one unless --dir), cd into it; at exit every
#                              process in PIDS is stopped and a temporary DIR removed (cleanup)
#   free_port                  a free TCP port on 127.0.0.1

: "${NAME:?set NAME before sourcing examples/lib.sh}"
: "${USAGE:?set USAGE before sourcing examples/lib.sh}"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -t 1 ]; then B=$'\033[1m' D=$'\033[2m' G=$'\033[32m' R=$'\033[31m' N=$'\033[0m'; else B= D= G= R= N=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '%s   %s%s\n' "$D" "$*" "$N"; }
ok() { printf '%s   ✓ %s%s\n' "$G" "$*" "$N"; }
fail() { printf '%s%s: %s%s\n' "$R" "$NAME" "$*" "$N" >&2; exit 1; }
usage() { sed -n "${USAGE}s/^# \{0,1\}//p" "$0"; }

ex_args() {
  DIR= PROFILE=debug
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR=${2:?--dir needs a directory}; shift 2 ;;
      --release) PROFILE=release; shift ;;
      -h | --help) usage; exit 0 ;;
      *) echo "$NAME: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
  done
}

ex_need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$NAME: '$tool' is needed" >&2; exit 1; }
  done
}

# The directory cargo builds into (CARGO_TARGET_DIR and .cargo/config included).
ex_target_dir() {
  local t
  t=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  printf '%s\n' "${t:-${CARGO_TARGET_DIR:-$REPO/target}}"
}

ex_build() {
  local pkgs=() bins=() b
  while [ $# -gt 0 ] && [ "$1" != -- ]; do pkgs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  bins=("$@")
  if [ "$PROFILE" = release ]; then
    (cd "$REPO" && cargo build --locked -q --release "${pkgs[@]}" --bins)
  else
    (cd "$REPO" && cargo build --locked -q "${pkgs[@]}" --bins)
  fi
  BIN="$(ex_target_dir)/$PROFILE"
  for b in "${bins[@]}"; do [ -x "$BIN/$b" ] || fail "$BIN/$b was not built"; done
}

PIDS=()
KEEP=1
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  PIDS=()
  if [ "$KEEP" = 0 ] && [ -n "${DIR:-}" ]; then rm -rf "$DIR"; fi
}

ex_workdir() {
  if [ -z "$DIR" ]; then
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    KEEP=0
  else
    [ -e "$DIR" ] && fail "$DIR exists; give a new directory"
    mkdir -p "$DIR"
    KEEP=1
  fi
  DIR=$(cd "$DIR" && pwd)
  trap cleanup EXIT
  cd "$DIR"
  say "Working in $DIR"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
