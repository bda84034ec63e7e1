#!/bin/sh
# Starts the broker: ./your_program.sh [path/to/server.properties] (default: the bundled config).
# Works from any directory; installs dependencies (and builds) on first use.
set -e
root=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$root/node_modules" ]; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
node="$root/node_modules/.bin/node"
[ -x "$node" ] || node=node
# Start-up is mostly module loading: keep V8's compiled code (and stripped TypeScript) between runs.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$root/node_modules/.cache/node-compile}"

# The bundle (npm run build, done on install) starts several times faster than the sources; it is used only
# while no source file is newer than it.
entry="$root/src/Main.ts"
bundle="$root/dist/broker/Main.js"
if [ -f "$bundle" ] && [ -z "$(find "$root/src" -newer "$bundle" -print -quit)" ]; then
  entry="$bundle"
fi

config="$root/config/server.properties"
case "${1:-}" in
  -h|--help) exec "$node" "$entry" --help ;;
  "") ;;
  *)
    if [ -f "$1" ]; then config=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift; else exec "$node" "$entry" "$@"; fi
    ;;
esac
# Memory, as Kafka's launcher sets heap options. Every socket read is a fresh buffer of up to 64 KiB that is
# freed only by a garbage collection: with V8's default young generation (up to 64 MB) hundreds of megabytes of
# dead reads pile up under load. A 1 MB semi-space collects them every megabyte or two; glibc then returns each
# one to the OS at once (mmap threshold) instead of keeping it in its arenas. Measured: scenario 1 of
# `npm run bench` at unchanged throughput, broker RSS under 150 MB instead of ~300 MB. Override through NODE_OPTIONS
# (a later --max-semi-space-size wins) and MALLOC_MMAP_THRESHOLD_ / MALLOC_ARENA_MAX.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-65536}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export NODE_OPTIONS="--max-semi-space-size=1${NODE_OPTIONS:+ $NODE_OPTIONS}"
exec "$node" "$entry" "$config" "$@"
