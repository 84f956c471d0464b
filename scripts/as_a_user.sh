#!/usr/bin/env bash
# The README as a new user meets it: a fresh copy of the repository (the files git tracks, and new ones it
# does not ignore), a clean environment (no OPENAI_*, no SUMMARIZER_*, no virtual environment), the default
# install only. Runs `make brief`, then every command of the README's Usage and Daily-briefs blocks as typed
# in one fresh shell (and docs/review.md's, which review what they wrote), then `make test` (no llama-cpp-python: those tests skip and say why). Each must exit 0.
#
#   bash scripts/as_a_user.sh            # all three steps
#   bash scripts/as_a_user.sh --no-test  # make brief and the README commands only
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/repo" "$work/home"
(cd "$repo" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$work/repo"

# What a login shell has, nothing of this session's: no keys, no endpoints, no activated venv.
# Its data folder is the copy's own: the history database that daily writes stays out of this machine's home.
clean=(env -i "HOME=$HOME" "XDG_DATA_HOME=$work/home/share" "PATH=$PATH" "LANG=C.UTF-8" "TERM=dumb" "NO_COLOR=1")
run() {
    echo "== $*"
    (cd "$work/repo" && "${clean[@]}" bash -c "$*")
}
for name in $(env | grep -oE '^(OPENAI|SUMMARIZER)_[A-Z_]*' || true); do
    echo "(left out of the user's environment: $name)"
done
run make brief
python3 "$repo/scripts/readme_commands.py" "$work/repo" > "$work/commands.sh"
run bash "$work/commands.sh"
if [[ "${1:-}" != "--no-test" ]]; then
    run make test
fi
echo "as a user: every step exited 0"
