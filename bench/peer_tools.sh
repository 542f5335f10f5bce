# Sourced by bench/run.sh and bench/remote.sh. load_peers WORK RESULTS STASH
# [peers.sh flags...] sets `tools` (the tools to run, in column order, stash
# last) and `bin` (tool name -> binary) from bench/peers.sh, and records each
# peer that is missing, with the reason peers.sh gave, in RESULTS, so the
# summary names it instead of comparing against nothing.
load_peers() {
  local work=$1 results=$2 stash=$3; shift 3
  local peer_err=$work/peers.err peer_list name path reason
  tools=()
  declare -gA bin=()
  peer_list=$(bash bench/peers.sh "$@" 2> "$peer_err") || true
  cat "$peer_err" >&2
  while IFS=$'\t' read -r name path; do
    [ -n "$name" ] && tools+=("$name") && bin[$name]=$path
  done <<< "$peer_list"
  tools+=(stash) bin[stash]=$stash
  for name in "restic 0.14" "restic 0.18.1" "rustic 0.11.4"; do
    if [ -z "${bin[$name]:-}" ]; then
      reason=$(grep -m1 "^bench: $name unavailable: " "$peer_err" | sed "s/^bench: $name unavailable: //") || true
      python3 -c 'import json,sys; print(json.dumps({"unavailable": sys.argv[1], "reason": sys.argv[2]}))' \
        "$name" "${reason:-not found}" >> "$results"
    fi
  done
}

# round_order R: sets `order` to `tools` rotated by R - 1, the order of round
# R of a step. Outputs are deleted only when a run ends, so each tool writes
# into memory and disk the tools before it left untouched; a tool always
# last (stash, in column order) would always meet the least warmed pages.
# Rotating gives each tool its turn in front when --repeat keeps the best.
round_order() {
  local r=$1 n=${#tools[@]} i
  order=()
  for ((i = 0; i < n; i++)); do order+=("${tools[$(( (i + r - 1) % n ))]}"); done
}

# print_key_mode SAME_KEY: says on stderr whose keys the run uses.
print_key_mode() {
  if [ -n "$1" ]; then
    echo "bench: keys: every repository gets a key of stash's cost (N=32768 r=8 p=1) in place of its tool's own" >&2
  else
    echo "bench: keys: each tool's own (their scrypt costs differ: see --same-key)" >&2
  fi
}

# replace_key STASH WORK REPO [STASH FLAGS...]: gives REPO (any location
# stash reaches, with RESTIC_PASSWORD) a key of stash's cost for the same
# password and removes the keys that were there, so every tool opens REPO
# at one scrypt cost (--same-key). The new key is found by its id, not its
# file, and hinted so that the old ones are not the key in use.
replace_key() {
  local stash=$1 work=$2 repo=$3; shift 3
  local new old
  old=$(key_ids "$stash" "$repo" "$@") || return 1
  printf '%s\n' "$RESTIC_PASSWORD" > "$work/key-password"
  "$stash" -q "$@" -r "$repo" key add --new-password-file "$work/key-password" > /dev/null || return 1
  new=$(comm -13 <(echo "$old") <(key_ids "$stash" "$repo" "$@")) || return 1
  [ "$(echo "$new" | wc -w)" = 1 ] || { echo "replace_key: no single new key in $repo" >&2; return 1; }
  for k in $old; do
    "$stash" -q "$@" -r "$repo" --key-hint "$new" key remove "$k" > /dev/null || return 1
  done
  [ "$(key_ids "$stash" "$repo" "$@" | wc -l)" = 1 ]
}

key_ids() {  # STASH REPO [STASH FLAGS...]: the short ids of REPO's keys, sorted
  local stash=$1 repo=$2; shift 2
  "$stash" "$@" -r "$repo" key list --json |
    python3 -c 'import json,sys; print("\n".join(sorted(k["id"] for k in json.load(sys.stdin))))'
}
