#!/bin/sh
# Builds the one file users download: `deno compile` of mod.ts into dist/legate-jupyter[-TARGET].
#
# Usage: sh scripts/compile.sh [TARGET]        (also: deno task compile [TARGET])
#   TARGET    x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-apple-darwin or
#             aarch64-apple-darwin (also read from $TARGET); none builds for this machine into
#             dist/legate-jupyter, a target into dist/legate-jupyter-TARGET.
#   OUTPUT    where to write the executable instead (used by the tests).
#   DENORT_BIN  a local denort (Deno's runtime-only binary) of this Deno's exact version for TARGET:
#             deno compile uses it instead of downloading one, so the build works offline.
#   DENO_DIR  a Deno cache; deno compile also looks for dl/release/vVERSION/denort-TARGET.zip in it.
#   DENO      the deno to use (default: deno on PATH).
#
# -A: the program reads whatever Python prefix, Jupyter directory, /proc and /sys files the user
# points it at, spawns python, jupyter, srun and sbatch from PATH, may dlopen libraries, and
# talks HTTP to Jupyter servers on this or a compute node. None of those are known when the
# binary is built, and an unscoped --allow-run or --allow-ffi is already all access, so a
# narrower list would add failure modes in the field and no protection. -A also keeps the
# binary identical in behaviour to `deno run -A mod.ts`, which is what the tests compare.
set -eu
cd "$(dirname "$0")/.."

DENO=${DENO:-deno}
target=${1:-${TARGET:-}}
TARGETS="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin"

fail() {
  echo "compile: error: $*" >&2
  exit 1
}

if [ $# -gt 1 ]; then
  echo "compile: error: too many arguments; usage: sh scripts/compile.sh [TARGET]" >&2
  exit 2
fi
if [ -n "$target" ]; then
  case " $TARGETS " in
  *" $target "*) ;;
  *)
    echo "compile: error: unknown target '$target'; use one of: $TARGETS" >&2
    exit 2
    ;;
  esac
fi
command -v "$DENO" >/dev/null 2>&1 || fail "'$DENO' not found; install Deno (sh scripts/setup.sh) or set DENO"

output=${OUTPUT:-dist/legate-jupyter${target:+-$target}}
mkdir -p "$(dirname "$output")"

# Nothing but the program goes into the binary: fail if mod.ts's module graph reaches tests,
# benchmarks, node_modules or anything remote (a stray import would ship it to every user).
graph=$("$DENO" info --json mod.ts) || fail "could not resolve mod.ts's imports (see above)"
stray=$(printf '%s\n' "$graph" | sed -n 's/.*"specifier": *"\([^"]*\)".*/\1/p' |
  grep -E '/(tests|bench|node_modules)/|^(https?|jsr):' | sort -u || true)
[ -z "$stray" ] || fail "mod.ts imports files that must not ship in the binary: $(echo "$stray" | tr '\n' ' ')"

# Say where the runtime comes from, so an offline failure explains itself.
version=$("$DENO" --version | sed -n '1s/^deno \([^ ]*\).*/\1/p')
host=$("$DENO" --version | sed -n '1s/.*, \([^,)]*\))$/\1/p')
runtime_target=${target:-$host}
if [ -n "${DENORT_BIN:-}" ]; then
  [ -f "$DENORT_BIN" ] || fail "DENORT_BIN=$DENORT_BIN does not exist; point it at denort $version for $runtime_target"
  echo "compile: runtime from DENORT_BIN=$DENORT_BIN (it must be denort $version for $runtime_target)" >&2
  cached=yes
else
  deno_dir=$("$DENO" info --json | sed -n 's/.*"denoDir": *"\([^"]*\)".*/\1/p')
  zip="$deno_dir/dl/release/v$version/denort-$runtime_target.zip"
  if [ -f "$zip" ]; then
    echo "compile: runtime from the Deno cache: $zip" >&2
    cached=yes
  else
    echo "compile: downloading denort $version for $runtime_target (offline? set DENORT_BIN or put denort-$runtime_target.zip in $deno_dir/dl/release/v$version/)" >&2
    cached=no
  fi
fi

# --include kernels: the templates are imported as text/bytes today, but anything read from
# kernels/ by path must still exist inside the binary. --no-check: type checking is `deno task
# check`'s job (CI runs it before any build) and does not change the binary; skipping it here
# keeps an offline build from needing anything but the sources and a denort.
set -- compile -A --unstable-raw-imports --no-check --include kernels --output "$output"
[ -z "$target" ] || set -- "$@" --target "$target"
# Every module of src/: the command table and the commands load their modules with lazy()
# (src/util/lazy.ts: `deno run` would load ahead every module a literal import() names), whose
# specifiers deno compile cannot follow either. The graph checked above sees them all, through
# the type of each lazy() call.
for module in $(find src -name '*.ts' | LC_ALL=C sort); do
  set -- "$@" --include "$module"
done
if ! "$DENO" "$@" mod.ts; then
  [ "$cached" = yes ] || fail "deno compile failed; without network access, set DENORT_BIN to a local denort $version for $runtime_target (see the README's offline build)"
  fail "deno compile failed (see above)"
fi
echo "compile: wrote $output" >&2
