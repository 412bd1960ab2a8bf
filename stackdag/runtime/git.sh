#!/bin/bash
# git_clone and git_clone_by_name: the clones a plugin makes of its own projects.
# Sourced by functions.sh on first use.
#
# Written from DevStack's observable behaviour: a missing checkout is cloned and left
# detached at REF; an existing one is left alone unless RECLONE=True (or REF is refs/...);
# OFFLINE=True never touches the network; ERROR_ON_CLONE=True refuses to clone.
# Differs from DevStack: a clone is made in a temporary directory and renamed into place
# only when complete (a failed clone leaves nothing behind); RECLONE works with a sha
# (DevStack died); REPO and REF are refused if git could read them as options or as a
# command transport.

# _sd_git_refuse REPO REF: die unless REPO and REF are safe to hand to git.
function _sd_git_refuse {
    local repo=$1 ref=$2
    if [[ $repo == -* || $repo == *::* || $repo == [eE][xX][tT]:* || $repo == *[[:space:]]* ]]; then
        _sd_fail 1 "git_clone: refusing repository '$repo'"
    fi
    if [[ $ref == -* || $ref == *..* || $ref == *[[:space:][:cntrl:]~^:?*\[\\]* ]]; then
        _sd_fail 1 "git_clone: refusing ref '$ref'"
    fi
}

# _sd_git_checkout DIR REF DEPTH...: fetch REF (the remote's default branch if empty) into
# DIR and check it out, detached.
function _sd_git_checkout {
    local dir=$1 ref=${2:-HEAD}
    shift 2
    git -C "$dir" fetch -q "$@" origin --end-of-options "$ref" \
        && git -C "$dir" checkout -q --detach FETCH_HEAD
}

# git_clone REPO DEST [REF]: DEST checked out at REF (see the notes above).
function git_clone {
    local repo=${1:-} dest=${2:-} ref=${3:-}
    [[ -n $repo && -n $dest ]] || _sd_fail 1 "git_clone: needs REPO DEST [REF]"
    _sd_git_refuse "$repo" "$ref"
    ! _sd_linked_checkout "$dest" || return 0
    if _sd_is_true "${OFFLINE:-False}"; then
        echo "Running in offline mode, clones already exist"
        [[ -d $dest ]] || _sd_fail 1 "git_clone: $dest does not exist and OFFLINE=True"
        git -C "$dest" log --oneline -1 | cat
        return 0
    fi
    local -a depth=()
    [[ ${GIT_DEPTH:-0} =~ ^[1-9][0-9]*$ ]] && depth=(--depth "$GIT_DEPTH")
    if [[ ! -d $dest ]]; then
        if _sd_is_true "${ERROR_ON_CLONE:-False}"; then
            echo "The $dest project was not found; if this is a gate job, add the project" \
                 "to the \$PROJECTS variable in the job definition."
            _sd_fail 1 "ERROR_ON_CLONE is set to True so cloning not allowed in this" \
                       "configuration"
        fi
        local tmp=$dest.stackdag-clone-$$
        rm -rf "$tmp"
        mkdir -p "${dest%/*}"
        if ! git clone -q --no-checkout "${depth[@]}" -- "$repo" "$tmp" \
                || ! _sd_git_checkout "$tmp" "$ref" "${depth[@]}"; then
            rm -rf "$tmp"
            _sd_fail 1 "git call failed: cloning $repo ${ref:-(default branch)} into $dest"
        fi
        mv "$tmp" "$dest"
    elif _sd_is_true "${RECLONE:-False}" || [[ $ref == refs/* ]]; then
        git -C "$dest" remote set-url origin "$repo"
        _sd_git_checkout "$dest" "$ref" "${depth[@]}" \
            || _sd_fail 1 "git call failed: fetching $repo ${ref:-(default branch)}"
    fi
    git -C "$dest" log --oneline -1 | cat
}

# git_clone_by_name NAME: git_clone with GITREPO[NAME], GITDIR[NAME] and GITBRANCH[NAME].
function git_clone_by_name {
    local name=${1:-}
    [[ -n ${GITREPO[$name]:-} && -n ${GITDIR[$name]:-} ]] \
        || _sd_fail 1 "git_clone_by_name: no GITREPO/GITDIR for '$name'"
    git_clone "${GITREPO[$name]}" "${GITDIR[$name]}" "${GITBRANCH[$name]:-}"
}

# git_timed ARGS...: git ARGS, given GIT_TIMEOUT seconds (0: no limit) and retried up to 3
# times after a timeout; any other failure dies.
function git_timed {
    local count=0 timeout=${GIT_TIMEOUT:-0} rc IFS=' '
    [[ $timeout =~ ^[0-9]+$ ]] || timeout=0
    time_start git_timed
    while :; do
        rc=0
        timeout -s SIGINT "$timeout" git "$@" || rc=$?
        ((rc == 0)) && break
        ((rc == 124)) || _sd_fail "$rc" "git call failed: [git $*]"
        count=$((count + 1))
        warn "timeout $count for git call: [git $*]"
        ((count < 3)) || _sd_fail 1 "Maximum of 3 git retries reached"
        sleep 5
    done
    time_stop git_timed
}

# git_update_branch BRANCH: (in the current checkout) BRANCH reset to origin/BRANCH.
function git_update_branch {
    local branch=${1:-}
    git checkout -f "origin/$branch"
    git branch -D "$branch" || :
    git checkout -b "$branch"
}

# git_update_remote_branch BRANCH: a new local BRANCH tracking origin/BRANCH.
function git_update_remote_branch {
    git checkout -b "${1:-}" -t "origin/${1:-}"
}

# git_update_tag TAG: re-fetch TAG from origin and check it out.
function git_update_tag {
    local tag=${1:-}
    git tag -d "$tag"
    git_timed fetch origin tag "$tag"
    git checkout -f "$tag"
}
