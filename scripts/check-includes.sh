#!/usr/bin/env bash
# Fails on an upward include between salesflow's layers.
#   scripts/check-includes.sh [SRC_DIR]   (default: the repository's src/)
# Reads every `#include "..."` line of the .cpp and .hpp files below SRC_DIR.
# A file's layer is its first folder (src/<layer>/...); src/main.cpp is the top.
# The order, lowest first: base < core, aws < pipeline < app < main. A file may
# include its own layer and the layers below it; core and aws stand side by
# side and include neither each other nor anything but base. An include whose
# first folder is not a layer (and a bare "name.hpp") is reported too: every
# quoted include names its layer. A layer's detail/ folder holds the headers
# only that layer uses: another layer including one is reported.
# Prints one line per violation (file:line: what includes what) and exits 1
# if there is any; exits 0 and says how many includes it read otherwise.
set -euo pipefail
src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/src}
if [[ ! -d $src ]]; then
  echo "check-includes: $src is not a directory" >&2
  exit 2
fi

# Lower layers have lower ranks; equal ranks of different layers are siblings.
declare -A rank=([base]=0 [core]=1 [aws]=1 [pipeline]=2 [app]=3 [main]=4)

violations=0
includes=0
fail() {
  echo "$1"
  violations=$((violations + 1))
}
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  number=${rest%%:*}
  line=${rest#*:}
  [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]*)\" ]] || continue
  target=${BASH_REMATCH[1]}
  includes=$((includes + 1))
  relative=${file#"$src"/}
  if [[ $relative == */* ]]; then
    layer=${relative%%/*}
  else
    layer=main # a file directly in src/ (main.cpp) is the program itself
  fi
  to_layer=${target%%/*}
  where="$file:$number: $layer includes"
  if [[ -z ${rank[$layer]:-} ]]; then
    fail "$file:$number: $layer is not a layer folder (base, core, aws, pipeline, app)"
  elif [[ $target != */* ]]; then
    fail "$where \"$target\" without its layer folder (write \"$layer/$target\")"
  elif [[ -z ${rank[$to_layer]:-} || $to_layer == main ]]; then
    fail "$where \"$target\": $to_layer is not a layer"
  elif [[ $to_layer == "$layer" ]]; then
    :
  elif ((rank[$to_layer] > rank[$layer])); then
    fail "$where $to_layer (\"$target\"): an upward include"
  elif ((rank[$to_layer] == rank[$layer])); then
    fail "$where $to_layer (\"$target\"): core and aws include neither each other, only base"
  elif [[ $target == "$to_layer"/detail/* ]]; then
    fail "$where \"$target\": $to_layer's internals (only $to_layer includes $to_layer/detail/)"
  fi
done < <(grep -rnE --include='*.cpp' --include='*.hpp' \
  '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$src" | sort -t: -k1,1 -k2,2n)

if ((violations > 0)); then
  echo "check-includes: $violations include(s) against the layering (base < core, aws < pipeline < app < main)"
  exit 1
fi
echo "check-includes: $includes includes in $src, none against the layering"
