# SPDX-License-Identifier: GPL-2.0
# Helpers shared by katls' test tools (sourced, not executed).

KATLS_CACHE=${KATLS_CACHE:-/var/cache/katls}
# The project root: the parent of tools/.
KATLS_TOP=${KATLS_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

# sync_file SRC DST: copy only when the content differs, so that make
# does not rebuild what did not change.
sync_file() {
	if ! cmp -s "$1" "$2"; then
		mkdir -p "$(dirname "$2")"
		cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
	fi
}

# write_if_changed DST: stdin becomes DST's content unless it is equal.
write_if_changed() {
	local tmp="$1.tmp.$$"
	mkdir -p "$(dirname "$1")"
	cat >"$tmp"
	if cmp -s "$tmp" "$1"; then
		rm -f "$tmp"
	else
		mv -f "$tmp" "$1"
	fi
}

# sync_glob SRCDIR DSTDIR PATTERN...: mirror the files of SRCDIR that
# match the patterns into DSTDIR (not recursive), and delete from DSTDIR
# the files matching the patterns that SRCDIR no longer has.
sync_glob() {
	local src=$1 dst=$2 f pat
	shift 2
	mkdir -p "$dst"
	for pat in "$@"; do
		for f in "$src"/$pat; do
			[ -f "$f" ] && sync_file "$f" "$dst/${f##*/}"
		done
		for f in "$dst"/$pat; do
			[ -f "$f" ] && [ ! -f "$src/${f##*/}" ] && rm -f "$f"
		done
	done
	return 0
}

# katls_objs: the object list of katls.ko from the top-level Kbuild
# (the katls-y assignment, with continuation lines).
katls_objs() {
	awk '/^katls-y[ \t]*[:+]?=/ { on = 1; sub(/^katls-y[ \t]*[:+]?=/, "") }
	     on {
		c = sub(/\\$/, "")
		n = split($0, w)
		for (i = 1; i <= n; i++)
			print w[i]
		if (!c)
			on = 0
	     }' "$KATLS_TOP/Kbuild"
}

# sync_tree SRC DST: mirror the sources below SRC into DST (recursively),
# copying only what changed; sources deleted from SRC are deleted from
# DST, build products in DST are left alone.
sync_tree() {
	local src=$1 dst=$2 f rel
	mkdir -p "$dst"
	[ -d "$src" ] || return 0
	while IFS= read -r -d '' f; do
		rel=${f#"$src"/}
		sync_file "$f" "$dst/$rel"
	done < <(find "$src" -type f ! -name '.*' -print0)
	while IFS= read -r -d '' f; do
		rel=${f#"$dst"/}
		case "$rel" in *.mod.c) continue ;; esac
		[ -e "$src/$rel" ] || rm -f "$f"
	done < <(find "$dst" -type f \( -name '*.[chS]' -o -name Kbuild \
		-o -name Makefile \) -print0)
}

# shq ARG: ARG quoted for a POSIX shell.
shq() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}
