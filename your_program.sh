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
exec "$node" "$entry" "$config" "$@"
