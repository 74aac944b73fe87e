# Sourced by tools/crds.sh and tools/crds-gateway.sh (set TAG first): where the CRDs go, where
# shared/ is, and the checks every file passes before it is cached (issue 21): a download
# that fails, or that is not the CRD (a proxy's error page), is never reported as fetched,
# and each failure says what failed and how to fix it.
#
# LLMSERVE_SHARED: where shared/ is, when it is not beside the repository (a git worktree
# elsewhere, a CI checkout with another layout). Default: ../shared next to the repository.
cache=${LLMSERVE_TOOLS:-$HOME/.cache/llmserve/tools}
dest="$cache/crds"
mkdir -p "$dest"
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${LLMSERVE_SHARED:-$here/../shared}

log() { printf '[%s] %s\n' "$TAG" "$*" >&2; }
# fail CAUSE FIX...: the cause, then each line of the fix, then exit 1.
fail() {
  log "FAILED: $1"
  shift
  local l
  for l in "$@"; do log "  $l"; done
  exit 1
}

# crd_name FILE: the CRD a file named <group>_<plural>.yaml holds: <plural>.<group>.
crd_name() {
  local f=${1%.yaml}
  printf '%s.%s\n' "${f#*_}" "${f%%_*}"
}

# is_crd FILE NAME: FILE is a CustomResourceDefinition named NAME (checked on the text, so a
# proxy's or captive portal's HTML page or an empty file is refused before it is cached).
is_crd() {
  grep -q '^kind: CustomResourceDefinition' "$1" && grep -q "^  name: $2\$" "$1"
}

# cached FILE: FILE is in the cache and is its CRD.
cached() {
  [ -s "$dest/$1" ] && is_crd "$dest/$1" "$(crd_name "$1")"
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# module_dir MODULE@VERSION FILE: prints the module's directory in the Go module cache,
# downloading it through the Go module proxy like the tools. `go mod download -json` reports
# its error inside the JSON on stdout, not on stderr: keep the JSON, so a failure shows the
# go command's own words ("Error" field, `go help mod download`).
module_dir() {
  local json dir
  if ! json=$(cd "$scratch" && go mod download -json "$1"); then
    printf '%s\n' "$json" | sed -n -e 's/\\"/"/g' -e "s/^[[:space:]]*\"Error\": \"\\(.*\\)\"\$/[$TAG]   go: \\1/p" >&2
    fail "could not download the Go module $1 (for $2)" \
      "fix: check that the Go module proxy is reachable: GOPROXY=$(go env GOPROXY 2>/dev/null || echo '?')" \
      "  (and GONOSUMDB/GOPRIVATE for a private one); \`go mod download -json $1\` repeats the error"
  fi
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] ||
    fail "go mod download -json $1 named no module directory" "its output: $json"
  printf '%s\n' "$dir"
}

# from_module MODULE@VERSION SUBDIR PINNED_IN FILE...: copies each FILE of the module's SUBDIR
# into the cache, checked, unless it is cached; PINNED_IN names where the version is set.
from_module() {
  local module=$1 sub=$2 pinned=$3 dir="" file crd
  shift 3
  for file in "$@"; do
    crd=$(crd_name "$file")
    if cached "$file"; then
      log "$file: cached in $dest"
      continue
    fi
    [ -n "$dir" ] || dir=$(module_dir "$module" "$file")
    [ -f "$dir/$sub/$file" ] ||
      fail "$module has no $sub/$file" "fix: the version in $pinned names one that ships it"
    is_crd "$dir/$sub/$file" "$crd" ||
      fail "$dir/$sub/$file is not the CustomResourceDefinition $crd"
    cp "$dir/$sub/$file" "$dest/$file.tmp"
    chmod u+w "$dest/$file.tmp"
    mv "$dest/$file.tmp" "$dest/$file"
    log "$file: from $module"
  done
}

# from_shared_or_url FILE URL ORIGIN: the cached FILE, else shared/crds' copy (CI has no
# network but the registries), else a download of URL (ORIGIN names it in the log), each
# checked to be the CRD.
from_shared_or_url() {
  local file=$1 url=$2 origin=$3 crd
  crd=$(crd_name "$file")
  if cached "$file"; then
    log "$file: cached in $dest"
  elif [ -f "$shared/crds/$file" ]; then
    is_crd "$shared/crds/$file" "$crd" ||
      fail "$shared/crds/$file is not the CustomResourceDefinition $crd" \
        "fix: restore shared/ (see shared/README.md), or point LLMSERVE_SHARED at a good copy"
    cp "$shared/crds/$file" "$dest/$file.tmp"
    mv "$dest/$file.tmp" "$dest/$file"
    log "$file: copied from $shared/crds"
  else
    # `if !` rather than `curl … && mv …`: set -e ignores a failure on the left of &&, which
    # let a failed download through as "fetched" (bash manual, The Set Builtin, -e).
    rm -f "$dest/$file.tmp"
    if ! curl -fsSL "$url" -o "$dest/$file.tmp"; then
      rm -f "$dest/$file.tmp"
      fail "could not download $file from $url (curl's error above)" \
        "no shared/ directory with it was found either: looked in $shared/crds/$file" \
        "fix, one of:" \
        "- put shared/ beside the repository ($here/../shared; CI has it), or set LLMSERVE_SHARED=<dir holding crds/$file>" \
        "- download it where GitHub is reachable and copy it to $dest/$file" \
        "  (curl -fsSL -o $file $url)"
    fi
    if ! is_crd "$dest/$file.tmp" "$crd"; then
      rm -f "$dest/$file.tmp"
      fail "the download of $url is not the CustomResourceDefinition $crd (a proxy or captive portal page?)" \
        "fix: check the network or proxy, or copy the file from shared/crds to $dest/$file"
    fi
    mv "$dest/$file.tmp" "$dest/$file"
    log "$file: fetched from $origin"
  fi
}
