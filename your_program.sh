#!/bin/sh
# Starts the broker: ./your_program.sh [path/to/server.properties] (default: the bundled config).
# Works from any directory; installs dependencies on first use.
set -e
root=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$root/node_modules" ]; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
node="$root/node_modules/.bin/node"
[ -x "$node" ] || node=node
# Start-up is mostly module loading: keep V8's compiled code (and stripped TypeScript) between runs.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$root/node_modules/.cache/node-compile}"
if [ $# -gt 0 ] && [ -f "$1" ]; then
  config=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  shift
  exec "$node" "$root/src/Main.ts" "$config" "$@"
fi
exec "$node" "$root/src/Main.ts" "$@"
