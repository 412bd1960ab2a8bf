#!/bin/bash
# Prints stackdag/runtime/devstack-lib.txt: "FUNCTION lib/FILE" for every function that a
# DevStack checkout's lib/ files define (names only; nothing of their code is kept).
#   bench/devstack-lib-table.sh /path/to/devstack [LABEL] > stackdag/runtime/devstack-lib.txt
# A name defined in several lib files keeps the first in sort order. Names that DevStack's
# general layer (functions, functions-common, inc/*) also defines are left out, and so are
# those stackdag's runtime defines (lib/stack's stack_install_service): the runtime provides
# them. The runtime reads the file once per step, when a missing command is met.
set -o errexit -o pipefail
ds=${1:?usage: $0 DEVSTACK_DIR [LABEL]}
label=${2:-$(git -C "$ds" log -1 --format=%h 2>/dev/null || echo "?")}
names() {  # FILE...: "name file" for each function definition at column 0
    local f
    for f in "$@"; do
        { grep -oE '^(function +)?[A-Za-z_][A-Za-z0-9_-]* *(\(\))? *\{' "$f" || :; } \
            | sed -E 's/^function +//; s/ *(\(\))? *\{$//' | sed "s|\$| ${f#"$ds"/}|"
    done
}
echo "# DevStack lib/ functions and the file that defines them (bench/devstack-lib-table.sh,"
echo "# DevStack $label)."
mapfile -t libs < <(find "$ds/lib" -type f | LC_ALL=C sort)
names "${libs[@]}" | LC_ALL=C sort -k1,1 -k2,2 | LC_ALL=C sort -u -k1,1 \
    | awk 'NR==FNR {g[$1]=1; next} !($1 in g)' \
        <(names "$ds/functions" "$ds/functions-common" "$ds"/inc/*
          bash -c 'source "$1/functions.sh" && declare -F' _ "${0%/*}/../stackdag/runtime" \
              | sed 's/^declare -f //') -
