#!/bin/sh
# stepstone migration runner: brings the persistent data of a device to the format of the
# image it runs, at boot or before a flash. Emitted by `stepstone runner`; the @...@ values
# below are set at emit time. One POSIX sh file: it runs under busybox ash and dash and uses
# only applets found in common busybox builds (no flock, no `sync -f`, no `readlink -f`,
# no mktemp). Behaviour is specified in DESIGN.md, "The runner (on the device)".
#
#   runner [--root DIR] boot [--component C]
#   runner [--root DIR] pre-flash --target DIR|BUNDLE.tar.gz [--wipe C,...]
#   runner [--root DIR] status [--json]
#
# Exit status: 0 done or nothing to do, 1 a migration failed (or storage failed under it),
# 2 usage or configuration, 3 integrity (nothing of that bundle ran).
#
# Commit protocol (why a power cut at any instant loses nothing)
# --------------------------------------------------------------
# A script counts as done when its effects, and after them its epoch record, are durable;
# the next script starts only after that. Per script:
#   1. companion: epoch.prev/<c> := the current epoch (or "none" when there is no record);
#      a shell redirection, skipped when it already holds that value.
#   2. run the script (`sh -e`).
#   3. barrier 1: `sync` (global: the script may have written anywhere).
#   4. applied/<id>, then epoch/<c> := <to>, written in place by shell redirection.
#   5. barrier 2: `sync -- epoch/<c>` (fsync, which reports I/O errors; sync(2) returns
#      nothing on Linux), with its directory when the record was just created.
# A crash can tear only a file being rewritten, and at most one of the pair epoch/<c>,
# epoch.prev/<c> is being rewritten at any time, the other being durable and valid:
#   - before barrier 1 completes: epoch/<c> still holds <from> (it is not touched before
#     step 4), so the script runs again at the next boot: scripts are re-runnable.
#   - during 4-5: the effects are durable (barrier 1). epoch/<c> may be old, new, empty or
#     a torn prefix; epoch.prev/<c> is durable (barrier 1 flushed step 1) and holds <from>.
#     A record counts only when its first line is complete (newline-terminated) and an
#     integer, so a torn one is detected and recovery uses epoch.prev: <from>, and the
#     script runs again on its own output, which re-runnable scripts allow; or <to>.
#     Either is consistent with the data. applied/<id> exists only once the effects are
#     durable (it may be lost, never early).
#   - after 5: <to> is durable; the next script starts only now.
# epoch.prev/<c> is rewritten only in step 1, while epoch/<c> is durable, and barrier 1
# makes it durable before epoch/<c> is touched again. "none" in epoch.prev means "no
# record yet" (a torn first record falls back to the fresh/baseline rule, which is what
# held before it). A torn epoch/<c> without a usable epoch.prev cannot come from a crash:
# it is reported as a corrupt epoch under the component's failure policy.
# Cost: two process spawns per script beyond the script (the barriers) and two file
# system commits; the DESIGN's "temp file + mv + sync" adds the mv process (and needs the
# directory fsynced for the rename). RECORD_MODE=rename keeps that literal scheme for
# comparison (see bench/runner-bench.mjs).
#
# Wipes delete data, so they are redone rather than undone: a durable marker
# wiping/<c> (written and synced before anything is deleted) lists the paths; a run that
# finds one finishes the wipe before anything else.

set -eu

# --- emit-time configuration -------------------------------------------------------------
SCRIPTS_DIR='@SCRIPTS_DIR@'
STATE_DIR='@STATE_DIR@'
KEYS_DIR='@KEYS_DIR@'
UPPER_DIR='@UPPER_DIR@'
LOCK_DIR='@LOCK_DIR@'
RECORD_MODE='@RECORD_MODE@'

PROG=runner
# Set by comp_load (through eval) and by the bundle loader.
C_NAME='' C_EPOCH='' C_BASE='' C_POLICY='' C_PATHS='' T_RELEASE='' T_N=0
# Byte-wise comparisons in awk (chain choice must match the planner) and stable messages.
LC_ALL=C
export LC_ALL
umask 022
: "${PATH:=/usr/sbin:/usr/bin:/sbin:/bin}"
export PATH
# Journal size checked once a run: persistent layers are small.
JOURNAL_MAX=65536
# A busy lock is waited for this long (seconds), then the run fails.
LOCK_TIMEOUT=${MIGRATION_LOCK_TIMEOUT:-60}
case $LOCK_TIMEOUT in '' | *[!0-9]*) LOCK_TIMEOUT=60 ;; esac

# --- messages and exit ---------------------------------------------------------------------
JOPEN=
CMD=
LOCKED=

jlog() {
	[ -n "$JOPEN" ] || return 0
	now
	# The journal is diagnostics: a full disk must not stop a commit half way because a
	# log line could not be written (the record writes report storage errors themselves).
	printf '%s %s[%s]: %s\n' "$NOW" "${CMD:-runner}" "$$" "$*" >&3 2>/dev/null || true
}

say() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	jlog "$*"
}

die() {
	die_code=$1
	shift
	say "$*"
	exit "$die_code"
}

usage() {
	cat <<'EOF'
usage: runner [--root DIR] boot [--component C]
       runner [--root DIR] pre-flash --target DIR|BUNDLE.tar.gz [--wipe C,...]
       runner [--root DIR] status [--json]
EOF
}

usage_fail() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	usage >&2
	exit 2
}

for v in "$SCRIPTS_DIR" "$STATE_DIR" "$KEYS_DIR" "$UPPER_DIR" "$LOCK_DIR" "$RECORD_MODE"; do
	case $v in @*@) die 2 "this runner was not configured: emit it with 'stepstone runner'" ;; esac
done
case $RECORD_MODE in companion | rename) ;; *) die 2 "unknown record mode $RECORD_MODE" ;; esac

# --- arguments -----------------------------------------------------------------------------
ROOT_ARG=/
COMPONENT=
HAVE_COMPONENT=
TARGET=
HAVE_TARGET=
WIPE=
HAVE_WIPE=
JSON=

need_arg() {
	[ "$1" -ge 2 ] || usage_fail "$2 needs a value"
}

while [ $# -gt 0 ]; do
	case $1 in
	--root)
		need_arg $# "$1"
		ROOT_ARG=$2
		shift 2
		continue
		;;
	--root=*) ROOT_ARG=${1#--root=} ;;
	--component)
		need_arg $# "$1"
		COMPONENT=$2 HAVE_COMPONENT=1
		shift 2
		continue
		;;
	--component=*) COMPONENT=${1#--component=} HAVE_COMPONENT=1 ;;
	--target)
		need_arg $# "$1"
		TARGET=$2 HAVE_TARGET=1
		shift 2
		continue
		;;
	--target=*) TARGET=${1#--target=} HAVE_TARGET=1 ;;
	--wipe)
		need_arg $# "$1"
		WIPE=$2 HAVE_WIPE=1
		shift 2
		continue
		;;
	--wipe=*) WIPE=${1#--wipe=} HAVE_WIPE=1 ;;
	--json) JSON=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	-*) usage_fail "unknown option: $1" ;;
	*)
		[ -z "$CMD" ] || usage_fail "unexpected argument: $1"
		CMD=$1
		;;
	esac
	shift
done

case $CMD in
boot | pre-flash | status) ;;
'') usage_fail "missing command" ;;
*) usage_fail "unknown command: $CMD" ;;
esac
[ -z "$HAVE_COMPONENT" ] || [ "$CMD" = boot ] || usage_fail "--component is for boot"
[ -z "$HAVE_TARGET$HAVE_WIPE" ] || [ "$CMD" = pre-flash ] || usage_fail "--target and --wipe are for pre-flash"
[ -z "$JSON" ] || [ "$CMD" = status ] || usage_fail "--json is for status"
[ "$CMD" != pre-flash ] || [ -n "$TARGET" ] || usage_fail "pre-flash needs --target DIR"

valid_name() {
	case $1 in
	[a-z]*) ;;
	*) return 1 ;;
	esac
	case $1 in
	*[!a-z0-9_-]*) return 1 ;;
	esac
	return 0
}

if [ -n "$HAVE_COMPONENT" ]; then
	valid_name "$COMPONENT" || usage_fail "bad component name: $COMPONENT"
fi
WIPE_LIST=
if [ -n "$HAVE_WIPE" ]; then
	old_ifs=$IFS
	IFS=,
	for w in $WIPE; do
		valid_name "$w" || usage_fail "bad component name in --wipe: $w"
		WIPE_LIST="$WIPE_LIST $w"
	done
	IFS=$old_ifs
	[ -n "$WIPE_LIST" ] || usage_fail "--wipe needs component names"
fi

# --- paths ---------------------------------------------------------------------------------
strip_slashes() {
	SS=$1
	while :; do
		case $SS in
		*/) SS=${SS%/} ;;
		*) break ;;
		esac
	done
}

[ -n "$ROOT_ARG" ] || usage_fail "--root needs a directory"
[ -d "$ROOT_ARG" ] || die 2 "root $ROOT_ARG is not a directory"
case $ROOT_ARG in
/*) strip_slashes "$ROOT_ARG" ;;
*) strip_slashes "$PWD/$ROOT_ARG" ;;
esac
# R is "" for the live system, so "$R/etc" is "/etc"; scripts get the same as MIGRATION_ROOT.
R=$SS
strip_slashes "$UPPER_DIR"
UP=$SS
S=$R$SCRIPTS_DIR
ST=$R$STATE_DIR
K=$R$KEYS_DIR
U=$R$UP
L=$R$LOCK_DIR
J=$ST/journal
if [ -n "$HAVE_TARGET" ]; then
	case $TARGET in
	/*) ;;
	*) TARGET=$PWD/$TARGET ;;
	esac
fi
# Scripts must not depend on where the runner was started from.
cd / || die 2 "cannot change to /"

# --- time without a process per call --------------------------------------------------------
# applied/<id> carries a time per script; `date` once a run plus /proc/uptime keeps the
# per-script cost to builtins.
T0=
U0=0
NOW=0
uptime_now() {
	UPT=0
	if [ -r /proc/uptime ] && IFS=' .' read -r UPT _ </proc/uptime; then
		case $UPT in '' | *[!0-9]*) UPT=0 ;; esac
	else
		UPT=0
	fi
}
now() {
	if [ -z "$T0" ]; then
		T0=$(date +%s 2>/dev/null) || T0=0
		case $T0 in '' | *[!0-9]*) T0=0 ;; esac
		uptime_now
		U0=$UPT
	fi
	uptime_now
	NOW=$((T0 + UPT - U0))
}

BOOT_ID=unknown
if [ -r /proc/sys/kernel/random/boot_id ]; then
	IFS= read -r BOOT_ID </proc/sys/kernel/random/boot_id || BOOT_ID=unknown
fi

# --- splitting ------------------------------------------------------------------------------------
# IFS stays the default everywhere; the few splits set what they need and restore it, so
# an exit from anywhere (the EXIT trap reads the lock's pid) sees the default.
NL='
'
DEFAULT_IFS=" 	$NL"

# split_words LINE: W1..W7 := its first seven blank-separated words (no globbing).
split_words() {
	set -f
	# shellcheck disable=SC2086 # split on purpose: blank-free fields
	set -- $1
	set +f
	W1=${1:-} W2=${2:-} W3=${3:-} W4=${4:-} W5=${5:-} W6=${6:-} W7=${7:-}
}

# --- small file helpers --------------------------------------------------------------------
# read_rec FILE: RL := first line; success only when that line is complete (ends in a
# newline). A torn write leaves no newline, an emptied file no line at all.
read_rec() {
	RL=
	[ -f "$1" ] || return 2
	IFS= read -r RL <"$1"
}

# int_of VALUE: RI := VALUE as a canonical decimal integer (at most 9 digits, so shell
# arithmetic and awk never overflow); fails for anything else.
int_of() {
	RI=$1
	case $RI in '' | *[!0-9]*) return 1 ;; esac
	[ ${#RI} -le 9 ] || return 1
	while [ ${#RI} -gt 1 ]; do
		case $RI in
		0*) RI=${RI#0} ;;
		*) break ;;
		esac
	done
	return 0
}

exists() {
	[ -e "$1" ] || [ -L "$1" ]
}

# valid_path P: a relative path with no empty, "." or ".." segment. Checked again where a
# path comes back from the state dir (a wipe marker), since it goes to `rm -rf`.
valid_path() {
	case $1 in '' | /* | */ | *//*) return 1 ;; esac
	case /$1/ in */./* | */../*) return 1 ;; esac
	case $1 in *[!A-Za-z0-9._@+/-]*) return 1 ;; esac
	return 0
}

# --- journal ---------------------------------------------------------------------------------
ensure_state() {
	for es_d in "$ST" "$ST/epoch" "$ST/epoch.prev" "$ST/applied" "$ST/failed"; do
		[ -d "$es_d" ] && continue
		mkdir -p "$ST/epoch" "$ST/epoch.prev" "$ST/applied" "$ST/failed" || return 1
		break
	done
	return 0
}

# Opened once, only by runs that write: a boot with nothing to do writes nothing.
journal_open() {
	[ -z "$JOPEN" ] || return 0
	ensure_state || die 1 "cannot create the state directory $ST: nothing run"
	if [ -f "$J" ]; then
		jo_size=$(wc -c <"$J") || jo_size=0
		# shellcheck disable=SC2086 # split on purpose: blank-free fields
		set -- $jo_size
		jo_size=${1:-0}
		case $jo_size in '' | *[!0-9]*) jo_size=0 ;; esac
		if [ "$jo_size" -gt "$JOURNAL_MAX" ]; then
			mv -f "$J" "$J.1" || say "warning: cannot rotate $J"
		fi
	fi
	# Probe with a regular builtin: a failed redirection on `exec` would end the shell
	# without our message.
	printf '' >>"$J" || die 1 "cannot write $J (read-only or full state directory?): nothing run"
	exec 3>>"$J"
	JOPEN=1
	jlog "start: $CMD${HAVE_COMPONENT:+ --component $COMPONENT}${HAVE_TARGET:+ --target $TARGET} (release ${M_RELEASE:-none})"
}

# --- lock --------------------------------------------------------------------------------------
# mkdir is atomic; the lock lives under /run (tmpfs) so a power cut clears it. The owner's
# pid and start time are kept inside so a lock left by a killed runner (or a reused pid) is
# recognised and taken over.
proc_start() {
	PS_STATE='' PS_START=''
	[ -r "/proc/$1/stat" ] || return 1
	IFS= read -r ps_line <"/proc/$1/stat" || return 1
	# Fields after "(comm)"; comm itself may hold spaces and parentheses.
	ps_line=${ps_line##*) }
	# shellcheck disable=SC2086 # split on purpose: blank-free fields
	set -- $ps_line
	[ $# -ge 20 ] || return 1
	PS_STATE=$1 PS_START=${20}
	return 0
}

# pid_alive PID START: START is the start time recorded with the pid ("" if unknown).
pid_alive() {
	pa_start=$2
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	if proc_start "$1"; then
		[ "$PS_STATE" != Z ] || return 1
		[ -z "$pa_start" ] || [ "$pa_start" = "$PS_START" ] || return 1
		return 0
	fi
	# /proc is mounted and has no such process: it is gone.
	[ ! -d /proc/self ] || return 1
	kill -0 "$1" 2>/dev/null
}

lock_owner() {
	LOWNER='' LSTART='' LLINE=''
	read_rec "$L/pid" || return 1
	LLINE=$RL
	split_words "$RL"
	LOWNER=$W1 LSTART=$W2
	return 0
}

lock_take() {
	lt_parent=${L%/*}
	if [ -n "$lt_parent" ] && [ ! -d "$lt_parent" ]; then
		mkdir -p "$lt_parent" || die 1 "cannot create $lt_parent for the lock"
	fi
	proc_start $$ || PS_START=
	lt_me="$$ $PS_START"
	lt_waited=0
	lt_nopid=0
	while :; do
		if mkdir "$L" 2>/dev/null; then
			if printf '%s\n' "$lt_me" >"$L/pid"; then
				LOCKED=1
				return 0
			fi
			rm -rf "$L"
			die 1 "cannot write $L/pid"
		fi
		if lock_owner; then
			lt_nopid=0
			if ! pid_alive "$LOWNER" "$LSTART"; then
				lock_takeover && continue
			fi
		else
			# Between an owner's mkdir and its pid write, or left by an owner killed
			# right there: give a live owner a second to write it.
			lt_nopid=$((lt_nopid + 1))
			if [ "$lt_nopid" -ge 2 ]; then
				lock_takeover && continue
			fi
		fi
		if [ "$lt_waited" -ge "$LOCK_TIMEOUT" ]; then
			die 1 "another runner (pid ${LOWNER:-unknown}) holds $L; gave up after ${LOCK_TIMEOUT}s"
		fi
		sleep 1 || die 1 "sleep failed while waiting for $L"
		lt_waited=$((lt_waited + 1))
	done
}

# Only one runner may take a stale lock over: mkdir of a marker inside it decides, then the
# owner is checked again (the lock may have been released and re-taken meanwhile).
lock_takeover() {
	lo_seen=$LLINE
	mkdir "$L/takeover" 2>/dev/null || return 1
	if lock_owner; then
		if [ "$LLINE" = "$lo_seen" ] && ! pid_alive "$LOWNER" "$LSTART"; then
			say "taking over the lock $L left by pid $LOWNER, which is gone"
			rm -rf "$L" || die 1 "cannot remove the stale lock $L"
			return 0
		fi
	elif [ -z "$lo_seen" ]; then
		say "taking over the lock $L, which has no owner"
		rm -rf "$L" || die 1 "cannot remove the stale lock $L"
		return 0
	fi
	rmdir "$L/takeover" 2>/dev/null || true
	return 1
}

lock_release() {
	[ -n "$LOCKED" ] || return 0
	LOCKED=
	# Remove it only while it is still ours.
	if lock_owner && [ "$LOWNER" = "$$" ]; then
		rm -rf "$L" || printf '%s: cannot remove the lock %s\n' "$PROG" "$L" >&2
	fi
}

on_exit() {
	oe_rc=$?
	IFS=$DEFAULT_IFS
	lock_release
	exit "$oe_rc"
}
trap on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- bundles -------------------------------------------------------------------------------------
# AWK_MANIFEST reads "F name"/"D name" lines and sha256sum output for a bundle folder
# (stage=files), then its manifest.tsv (stage=manifest). It validates every line, checks
# that each listed script is present with the listed sha256 and that nothing else is there,
# and prints shell assignments (values are checked against safe character sets first, so
# `eval` of them is safe), or "ERR <exit code> <message>".
# shellcheck disable=SC2016 # an awk program, expanded by awk
AWK_MANIFEST='
function fail(code, msg) {
	if (!err) { err = code; print "ERR " code " " msg }
	exit code
}
function isint(s) { return s ~ /^(0|[1-9][0-9]*)$/ && length(s) <= 9 }
function okpath(p,   n, i, seg) {
	if (p !~ /^[A-Za-z0-9._@+\/-]+$/) return 0
	if (substr(p, 1, 1) == "/" || substr(p, length(p), 1) == "/") return 0
	n = split(p, seg, "/")
	for (i = 1; i <= n; i++) if (seg[i] == "" || seg[i] == "." || seg[i] == "..") return 0
	return 1
}
BEGIN { FS = "\t"; q = sprintf("%c", 39) }
stage == "files" {
	if (substr($0, 1, 2) == "F ") { present[substr($0, 3)] = 1; next }
	if (substr($0, 1, 2) == "D ") fail(3, label ": unexpected directory " substr($0, 3) " in the bundle")
	if (index($0, " ") == 65 && substr($0, 66, 3) ~ /^[ *]\.\/$/) sum[substr($0, 69)] = substr($0, 1, 64)
	next
}
stage == "manifest" {
	at = label ": manifest.tsv:" FNR ": "
	sub(/\r$/, "")
	if ($0 == "" || substr($0, 1, 1) == "#") next
	kind = $1
	if (kind == "release") {
		if (NF != 2 || $2 !~ /^[0-9A-Za-z][0-9A-Za-z.+-]*$/) fail(2, at "bad release line")
		if (release != "") fail(2, at "a second release line")
		release = $2
	} else if (kind == "platform") {
		if (NF != 2 || $2 !~ /^([A-Za-z0-9][A-Za-z0-9._-]*|-)$/) fail(2, at "bad platform line")
		if (haveplatform) fail(2, at "a second platform line")
		haveplatform = 1; platform = $2
	} else if (kind == "component") {
		if (NF != 6) fail(2, at "a component line has 6 fields")
		if ($2 !~ /^[a-z][a-z0-9_-]*$/) fail(2, at "bad component name " $2)
		if ($2 in cidx) fail(2, at "component " $2 " declared twice")
		if (!isint($3) || !isint($4)) fail(2, at "bad epoch or baseline for " $2)
		if ($5 != "halt" && $5 != "isolate" && $5 != "wipe") fail(2, at "bad onFailure " $5)
		ps = ""
		if ($6 != "-") {
			np = split($6, pp, ",")
			for (i = 1; i <= np; i++) {
				if (!okpath(pp[i])) fail(2, at "bad path " pp[i])
				ps = ps (i > 1 ? " " : "") pp[i]
			}
		}
		nc++; cidx[$2] = nc; cname[nc] = $2; cep[nc] = $3; cbase[nc] = $4; cpol[nc] = $5; cpaths[nc] = ps
	} else if (kind == "script") {
		if (NF != 8) fail(2, at "a script line has 8 fields")
		if (!isint($2)) fail(2, at "bad order " $2)
		if ($3 !~ /^[a-z0-9][a-z0-9._-]*$/ || $3 ~ /\.tmp$/) fail(2, at "bad script id " $3)
		if ($3 in sid) fail(2, at "script " $3 " listed twice")
		if (length($4) != 64 || $4 ~ /[^0-9a-f]/) fail(2, at "bad sha256 for " $3)
		if (!isint($6) || !isint($7) || $6 == $7) fail(2, at "bad from/to epochs for " $3)
		if ($8 !~ /^[A-Za-z0-9][A-Za-z0-9._+-]*$/ || $8 ~ /^manifest\./) fail(2, at "bad file name " $8)
		if ($8 in sfile) fail(2, at "file " $8 " listed twice")
		ns++; sid[$3] = ns; scomp[ns] = $5; sfile[$8] = ns; ssha[ns] = $4; sname[ns] = $8; sline[ns] = FNR
	}
	# Other kinds are ignored: a newer generator may add lines an older runner reads.
	next
}
END {
	if (err) exit err
	if (release == "") { print "ERR 2 " label ": manifest.tsv has no release line"; exit 2 }
	for (s = 1; s <= ns; s++) {
		if (!(scomp[s] in cidx)) {
			print "ERR 2 " label ": manifest.tsv:" sline[s] ": script for undeclared component " scomp[s]
			exit 2
		}
		f = sname[s]
		if (!(f in present)) { print "ERR 3 " label ": " f " is listed in manifest.tsv but missing"; exit 3 }
		if (!(f in sum) || sum[f] != ssha[s]) { print "ERR 3 " label ": the sha256 of " f " does not match manifest.tsv"; exit 3 }
	}
	for (f in present) if (!(f in sfile)) {
		print "ERR 3 " label ": " f " is not listed in manifest.tsv"
		exit 3
	}
	printf "%sRELEASE=%s%s%s\n", pfx, q, release, q
	printf "%sPLATFORM=%s%s%s\n", pfx, q, (platform == "" ? "-" : platform), q
	printf "%sN=%d\n", pfx, nc
	for (i = 1; i <= nc; i++)
		printf "%sC%d=%s%s%s %sE%d=%s %sB%d=%s %sP%d=%s %sX%d=%s%s%s\n", pfx, i, q, cname[i], q, pfx, i, cep[i], pfx, i, cbase[i], pfx, i, cpol[i], pfx, i, q, cpaths[i], q
	printf "%sNS=%d\n", pfx, ns
}
'

# list_and_hash DIR: everything in a bundle folder except the manifest files, for
# AWK_MANIFEST: "F name" per file, "D name" per unexpected directory, then their sha256s.
# Files are named ./name so no name can look like an option.
list_and_hash() {
	(
		cd "$1" || exit 1
		set --
		for lh_f in * .[!.]* ..?*; do
			case $lh_f in manifest.tsv | manifest.json | manifest.tsv.sig) continue ;; esac
			if [ -d "$lh_f" ] && [ ! -L "$lh_f" ]; then
				# Public keys may live in the bundle folder.
				[ "$lh_f" = keys ] || printf 'D %s\n' "$lh_f"
			elif exists "$lh_f"; then
				printf 'F %s\n' "$lh_f"
				set -- "$@" "./$lh_f"
			fi
		done
		[ $# -eq 0 ] || sha256sum "$@"
	)
}

verify_signature() {
	vs_dir=$1 vs_label=$2
	vs_any=
	for vs_k in "$K"/*.pem; do
		[ -f "$vs_k" ] && vs_any=1 && break
	done
	[ -n "$vs_any" ] || return 0
	[ -f "$vs_dir/manifest.tsv.sig" ] ||
		die 3 "$vs_label: keys are installed in $K but manifest.tsv.sig is missing: nothing run"
	command -v openssl >/dev/null 2>&1 ||
		die 3 "$vs_label: openssl is needed to verify manifest.tsv.sig and was not found: nothing run"
	for vs_k in "$K"/*.pem; do
		[ -f "$vs_k" ] || continue
		if openssl pkeyutl -verify -pubin -inkey "$vs_k" -rawin -in "$vs_dir/manifest.tsv" \
			-sigfile "$vs_dir/manifest.tsv.sig" </dev/null >/dev/null 2>&1; then
			return 0
		fi
	done
	die 3 "$vs_label: manifest.tsv.sig does not verify with any key in $K: nothing run"
}

# load_bundle DIR PREFIX LABEL: verify the bundle (signature first, so a tampered manifest
# is an integrity error rather than a parse error) and define PREFIX* variables.
load_bundle() {
	lb_dir=$1 lb_pfx=$2 lb_label=$3
	verify_signature "$lb_dir" "$lb_label"
	command -v sha256sum >/dev/null 2>&1 || die 3 "$lb_label: sha256sum not found: nothing run"
	if lb_out=$(list_and_hash "$lb_dir" | awk -v pfx="$lb_pfx" -v label="$lb_label" "$AWK_MANIFEST" \
		stage=files - stage=manifest "$lb_dir/manifest.tsv"); then
		eval "$lb_out"
		return 0
	else
		lb_rc=$?
	fi
	case $lb_out in
	ERR\ *)
		lb_rc=${lb_out#ERR }
		lb_msg=${lb_rc#* }
		lb_rc=${lb_rc%% *}
		;;
	*) lb_msg="$lb_label: cannot read the bundle in $lb_dir" ;;
	esac
	case $lb_rc in 2 | 3) ;; *) lb_rc=2 ;; esac
	[ "$lb_rc" = 2 ] || lb_msg="$lb_msg: nothing run"
	die "$lb_rc" "$lb_msg"
}

# bundle_state DIR: 0 a bundle is there; 1 nothing is there (an image without migrations);
# exits 3 when files are there without a manifest (nothing can vouch for them).
bundle_present() {
	[ -f "$1/manifest.tsv" ] && return 0
	[ -d "$1" ] || return 1
	for bp_f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		exists "$bp_f" || continue
		[ "${bp_f##*/}" = keys ] && [ -d "$bp_f" ] && continue
		die 3 "$1 holds files but no manifest.tsv: nothing run"
	done
	return 1
}

# comp_index NAME PREFIX: CI := index of the component in that bundle, or fails.
comp_index() {
	CI=1 ci_n=0 ci_c=''
	eval "ci_n=\${$2N:-0}"
	while [ "$CI" -le "$ci_n" ]; do
		eval "ci_c=\$$2C$CI"
		[ "$ci_c" = "$1" ] && return 0
		CI=$((CI + 1))
	done
	return 1
}

# comp_load INDEX PREFIX: C_NAME C_EPOCH C_BASE C_POLICY C_PATHS of that component.
comp_load() {
	eval "C_NAME=\$$2C$1 C_EPOCH=\$$2E$1 C_BASE=\$$2B$1 C_POLICY=\$$2P$1 C_PATHS=\$$2X$1"
}

# --- epochs --------------------------------------------------------------------------------------
# epoch_state C: EK := value (EV := the epoch) | none (no record) | corrupt.
epoch_state() {
	EK=none EV=''
	es_main=$ST/epoch/$1
	exists "$es_main" || return 0
	if read_rec "$es_main" && int_of "$RL"; then
		EK=value EV=$RI
		return 0
	fi
	# Torn or emptied by an interrupted rewrite: the companion holds what was durable.
	if read_rec "$ST/epoch.prev/$1"; then
		if int_of "$RL"; then
			EK=value EV=$RI
			return 0
		fi
		if [ "$RL" = none ]; then
			EK=none
			return 0
		fi
	fi
	EK=corrupt
}

# is_fresh: the loaded component has paths and none of them exists in the persistent layer.
# The upper dir, not the merged view: an overlay's lower layer holds the image's own
# defaults, which are at the image's epoch by definition.
is_fresh() {
	[ -n "$C_PATHS" ] || return 1
	for if_p in $C_PATHS; do
		if exists "$U/$if_p"; then return 1; fi
	done
	return 0
}

# current_epoch (of the loaded component, as boot sees it): CK := record (CE from the
# state), baseline (no record, data present: CE := baseline), fresh (no record, no data:
# CE := the image epoch), corrupt, wiping (an interrupted wipe: fresh once finished).
current_epoch() {
	CE=
	if [ -f "$ST/wiping/$C_NAME" ]; then
		CK=wiping
		return 0
	fi
	epoch_state "$C_NAME"
	case $EK in
	value) CK=record CE=$EV ;;
	corrupt) CK=corrupt ;;
	*)
		if is_fresh; then
			CK=fresh CE=$C_EPOCH
		else
			CK=baseline CE=$C_BASE
		fi
		;;
	esac
}

# --- commit protocol (see the header) --------------------------------------------------------
storage_fail() {
	die 1 "storage error: $*"
}

# write_main C VALUE: epoch/<c> := VALUE.
write_main() {
	if [ "$RECORD_MODE" = rename ]; then
		printf '%s\n' "$2" >"$ST/epoch/$1.tmp" && mv -f "$ST/epoch/$1.tmp" "$ST/epoch/$1"
	else
		printf '%s\n' "$2" >"$ST/epoch/$1"
	fi
}

# prev_prepare C VALUE|none: step 1 of the protocol.
prev_prepare() {
	[ "$RECORD_MODE" = companion ] || return 0
	if read_rec "$ST/epoch.prev/$1" && [ "$RL" = "$2" ]; then
		return 0
	fi
	printf '%s\n' "$2" >"$ST/epoch.prev/$1"
}

# barrier2 C NEW: make epoch/<c> durable (fsync, which reports I/O errors, unlike sync(2)).
# Its directory too when the record was just created (NEW) or renamed into place. Only the
# commit point: each extra fsync of a changed directory costs a journal commit, and
# applied/<id> (informational) is flushed by the next script's barrier 1 or the final sync.
barrier2() {
	if [ -n "$2" ] || [ "$RECORD_MODE" = rename ]; then
		sync -- "$ST/epoch/$1" "$ST/epoch" 2>&3
	else
		sync -- "$ST/epoch/$1" 2>&3
	fi
}

# undo_records C ID PREVIOUS: after a failed record write or barrier, leave no record that
# could claim more than is durable. PREVIOUS is the epoch before ("" when there was none).
undo_records() {
	rm -f "$ST/applied/$2" || true
	if [ -n "$3" ]; then
		write_main "$1" "$3" 2>/dev/null || true
	else
		rm -f "$ST/epoch/$1" || true
	fi
}

# commit C ID SHA FROM TO PHASE PREVIOUS: steps 3-5, after the script succeeded.
commit() {
	sync || storage_fail "sync failed after $2: not recorded; it runs again next time"
	now
	if ! printf 'id=%s\nsha256=%s\ncomponent=%s\nfrom=%s\nto=%s\ntime=%s\nrelease=%s\nphase=%s\n' \
		"$2" "$3" "$1" "$4" "$5" "$NOW" "$M_RELEASE" "$6" >"$ST/applied/$2"; then
		undo_records "$1" "$2" "$7"
		storage_fail "cannot write $ST/applied/$2 (read-only or full?): $2 not recorded; it runs again next time"
	fi
	cm_new=''
	exists "$ST/epoch/$1" || cm_new=1
	if ! write_main "$1" "$5"; then
		undo_records "$1" "$2" "$7"
		storage_fail "cannot write $ST/epoch/$1 (read-only or full?): $2 not recorded; it runs again next time"
	fi
	if ! barrier2 "$1" "$cm_new"; then
		undo_records "$1" "$2" "$7"
		storage_fail "sync of the records of $2 failed: not recorded; it runs again next time"
	fi
}

# record_epoch C VALUE: an epoch record not tied to a script (fresh data, after a wipe).
record_epoch() {
	if [ "$RECORD_MODE" = companion ]; then
		epoch_state "$1"
		if [ "$EK" = value ]; then re_prev=$EV; else re_prev=none; fi
		prev_prepare "$1" "$re_prev" || storage_fail "cannot write $ST/epoch.prev/$1"
		sync || storage_fail "sync failed before recording the epoch of $1"
	fi
	re_new=''
	exists "$ST/epoch/$1" || re_new=1
	write_main "$1" "$2" || storage_fail "cannot write $ST/epoch/$1 (read-only or full?)"
	barrier2 "$1" "$re_new" || storage_fail "sync of $ST/epoch/$1 failed"
}

# The last applied/<id>, failure records and journal lines: durable before the unit ends.
final_sync() {
	sync || storage_fail "the final sync failed"
}

# --- failures -------------------------------------------------------------------------------------
# A failure record is written and synced; if even that fails the run is failing anyway.
record_failure() {
	rf_file=$1
	shift
	now
	if printf '%s\n' "$@" "time=$NOW" "release=$M_RELEASE" "boot=$BOOT_ID" >"$rf_file" &&
		sync -- "$rf_file" "${rf_file%/*}" 2>&3; then
		return 0
	fi
	say "warning: cannot record the failure in $rf_file"
}

# failure_component FILE: FC := the component a failed/ record belongs to ("" if unknown).
failure_component() {
	FC=
	case ${1##*/} in
	@*)
		FC=${1##*/@}
		return 0
		;;
	esac
	[ -f "$1" ] || return 0
	while IFS= read -r fc_l; do
		case $fc_l in component=*)
			FC=${fc_l#component=}
			return 0
			;;
		esac
	done <"$1"
	return 0
}

# failed_here C: the component has a failure record; FB := 1 when one is from this boot.
failed_here() {
	FB=
	fh_any=1
	for fh_f in "$ST"/failed/*; do
		[ -f "$fh_f" ] || continue
		case $fh_f in *.tmp) continue ;; esac
		failure_component "$fh_f"
		[ "$FC" = "$1" ] || continue
		fh_any=0
		while IFS= read -r fh_l; do
			[ "$fh_l" = "boot=$BOOT_ID" ] && [ "$BOOT_ID" != unknown ] && FB=1
		done <"$fh_f"
	done
	return $fh_any
}

# A later success clears a component's failure records.
clear_failures() {
	cf_list=
	for cf_f in "$ST"/failed/*; do
		[ -f "$cf_f" ] || continue
		failure_component "$cf_f"
		[ "$FC" = "$1" ] && cf_list="$cf_list $cf_f"
	done
	[ -n "$cf_list" ] || return 0
	journal_open
	set -f
	# shellcheck disable=SC2086 # the list is of state file names, without blanks
	rm -f $cf_list || say "warning: cannot clear the failure records of $1"
	set +f
	jlog "$1: earlier failure records cleared"
}

# --- wipes -------------------------------------------------------------------------------------
# wipe C PATHS EPOCH: delete the paths from the persistent layer itself, never through a
# merged overlay view (that would leave whiteouts hiding the image's own files), and drop
# the epoch record; then record EPOCH unless it is "" (pre-flash: the target sees fresh data).
wipe() {
	wp_c=$1 wp_paths=$2 wp_epoch=$3
	journal_open
	mkdir -p "$ST/wiping" || storage_fail "cannot create $ST/wiping"
	printf 'component=%s\npaths=%s\nend\n' "$wp_c" "$wp_paths" >"$ST/wiping/$wp_c" ||
		storage_fail "cannot write $ST/wiping/$wp_c: nothing wiped"
	sync || storage_fail "sync failed before wiping $wp_c: nothing wiped"
	wipe_finish "$wp_c" "$wp_paths" "$wp_epoch"
}

wipe_finish() {
	wf_c=$1 wf_paths=$2 wf_epoch=$3
	set --
	for wf_p in $wf_paths; do
		valid_path "$wf_p" || die 1 "refusing to wipe the suspicious path '$wf_p' of $wf_c"
		set -- "$@" "$U/$wf_p"
	done
	if [ $# -gt 0 ]; then
		rm -rf -- "$@" || storage_fail "cannot delete the data of $wf_c in $U"
	fi
	rm -f "$ST/epoch/$wf_c" "$ST/epoch/$wf_c.tmp" "$ST/epoch.prev/$wf_c" ||
		storage_fail "cannot remove the epoch record of $wf_c"
	sync || storage_fail "sync failed while wiping $wf_c"
	if [ -n "$wf_epoch" ]; then
		# No record and no companion now: a torn write here is redone from the marker.
		write_main "$wf_c" "$wf_epoch" || storage_fail "cannot write $ST/epoch/$wf_c"
		sync || storage_fail "sync failed while wiping $wf_c"
	fi
	rm -f "$ST/wiping/$wf_c" || storage_fail "cannot remove $ST/wiping/$wf_c"
	sync || storage_fail "sync failed while wiping $wf_c"
	jlog "$wf_c: wiped (${wf_paths:-no paths})${wf_epoch:+, epoch $wf_epoch recorded}"
}

# Start of every writing run: leftovers of interrupted writes, interrupted wipes.
recover() {
	rc_tmp=
	for rc_f in "$ST"/epoch/*.tmp "$ST"/epoch.prev/*.tmp "$ST"/applied/*.tmp "$ST"/failed/*.tmp \
		"$ST"/wiping/*.tmp; do
		exists "$rc_f" && rc_tmp="$rc_tmp $rc_f"
	done
	if [ -n "$rc_tmp" ]; then
		journal_open
		set -f
		# shellcheck disable=SC2086 # state file names, without blanks
		rm -f $rc_tmp || say "warning: cannot remove leftover temp files:$rc_tmp"
		set +f
	fi
	for rc_m in "$ST"/wiping/*; do
		[ -f "$rc_m" ] || continue
		case $rc_m in *.tmp) continue ;; esac
		journal_open
		rc_c=${rc_m##*/}
		rc_paths='' rc_end=''
		while IFS= read -r rc_l; do
			case $rc_l in
			paths=*) rc_paths=${rc_l#paths=} ;;
			end) rc_end=1 ;;
			esac
		done <"$rc_m"
		if [ -z "$rc_end" ]; then
			# Torn marker: the sync that follows it never completed, so nothing was deleted.
			say "$rc_c: discarding an incomplete wipe marker (nothing had been deleted)"
			rm -f "$rc_m" || storage_fail "cannot remove $rc_m"
			continue
		fi
		say "$rc_c: finishing an interrupted wipe"
		wipe_finish "$rc_c" "$rc_paths" ""
	done
}

# --- planning ----------------------------------------------------------------------------------
# AWK_PLAN: the chain of each component from its current epoch to its target epoch.
# mode=boot: the image's scripts (stage=run). mode=preflash: the running image's scripts
# (stage=run, they run now) then the target's (stage=tgt, they run at the target's boot).
# Chains go through distinct epochs; preferred: fewest scripts, then fewest pre-flash
# scripts, then the smallest sequence of ids compared as byte strings (LC_ALL=C), as the
# planner does. Costs are to the goal, relaxed Bellman-Ford style over states
# (epoch, layer) with layer 0 = pre-flash, 1 = boot; then the path is rebuilt greedily,
# always taking the smallest id that keeps the optimal cost (ids are unique in a layer).
# Shortest chains never repeat an epoch (cutting the loop would make them shorter).
# Prints "S c id from to file sha" (runs now), "L c id from to" (runs at the target's
# boot), then "E c" per component, or "N c" when there is no chain.
# shellcheck disable=SC2016 # an awk program, expanded by awk
AWK_PLAN='
BEGIN { FS = "\t"; BIG = 100000; nw = split(want, W, " ") }
$1 == "component" {
	if (stage == "tgt" || mode == "boot") tgt[$2] = $3
	next
}
$1 == "script" {
	if (stage == "run" && mode == "preflash") pre = 1; else pre = 0
	c = $5; k = ++ne[c]
	eid[c, k] = $3; esha[c, k] = $4; efrom[c, k] = $6; eto[c, k] = $7; efile[c, k] = $8; epre[c, k] = pre
	next
}
function plan(c, a,   b, n, k, f, t, L, v, changed, it, se, sl, best, steps) {
	if (!(c in tgt)) { print "N " c; return }
	b = tgt[c]
	n = ne[c] + 0
	delete D
	D[b, 1] = 0; D[b, 0] = 0
	changed = 1; it = 0
	while (changed && it <= 2 * n + 2) {
		changed = 0; it++
		for (k = n; k >= 1; k--) {
			f = efrom[c, k]; t = eto[c, k]; L = epre[c, k] ? 0 : 1
			if ((t, L) in D) {
				v = D[t, L] + BIG + (L == 0 ? 1 : 0)
				if (!((f, L) in D) || v < D[f, L]) { D[f, L] = v; changed = 1 }
			}
			if (((f, 1) in D) && (!((f, 0) in D) || D[f, 1] < D[f, 0])) { D[f, 0] = D[f, 1]; changed = 1 }
		}
	}
	if (!((a, 0) in D)) { print "N " c; return }
	se = a; sl = 0; steps = 0
	while (D[se, sl] > 0) {
		best = 0
		for (k = 1; k <= n; k++) {
			if (efrom[c, k] != se) continue
			L = epre[c, k] ? 0 : 1
			if (L < sl) continue
			if (L > sl && !(((se, 1) in D) && D[se, 1] == D[se, 0])) continue
			t = eto[c, k]
			if (!((t, L) in D)) continue
			if (D[t, L] + BIG + (L == 0 ? 1 : 0) != D[se, L]) continue
			if (best == 0 || (eid[c, k] "") < (eid[c, best] "")) best = k
		}
		if (best == 0 || ++steps > n) { print "N " c; return }
		L = epre[c, best] ? 0 : 1
		if (mode == "boot" || L == 0)
			print "S " c " " eid[c, best] " " efrom[c, best] " " eto[c, best] " " efile[c, best] " " esha[c, best]
		else
			print "L " c " " eid[c, best] " " efrom[c, best] " " eto[c, best]
		se = eto[c, best]; sl = L
	}
	print "E " c
}
END { for (w = 1; w + 1 <= nw; w += 2) plan(W[w], W[w + 1]) }
'

PLAN=
# plan MODE "c epoch c epoch ..." RUN_MANIFEST [TARGET_MANIFEST]
plan() {
	PLAN=
	[ -n "$2" ] || return 0
	if [ $# -ge 4 ]; then
		PLAN=$(awk -v mode="$1" -v want="$2" "$AWK_PLAN" stage=run "$3" stage=tgt "$4") ||
			die 2 "cannot compute the migration chains"
	else
		PLAN=$(awk -v mode="$1" -v want="$2" "$AWK_PLAN" stage=run "$3") ||
			die 2 "cannot compute the migration chains"
	fi
}

# chain_of (CO_NAME): CHAIN := the plan lines of that component; CHAIN_OK := "" when it
# has no chain.
chain_of() {
	CHAIN='' CHAIN_OK=1
	# One parameter per plan line; the loop body runs with the default IFS.
	IFS=$NL
	set -f
	# shellcheck disable=SC2086 # split on purpose: one line each
	set -- $PLAN
	set +f
	IFS=$DEFAULT_IFS
	for co_l in "$@"; do
		split_words "$co_l"
		[ "$W2" = "$CO_NAME" ] || continue
		case $W1 in
		N) CHAIN_OK='' ;;
		S | L) CHAIN="$CHAIN$co_l
" ;;
		esac
	done
}

# --- running scripts ---------------------------------------------------------------------------
# run_chain PHASE: run the "S" lines of CHAIN for the loaded component, whose data is at
# CE (CK says whether that came from a record). Returns 1 with FAILED_ID set when a script
# fails; storage problems end the run.
FAILED_ID=
run_chain() {
	rc_phase=$1
	FAILED_ID=''
	IFS=$NL
	set -f
	# shellcheck disable=SC2086 # split on purpose: one line each
	set -- $CHAIN
	set +f
	IFS=$DEFAULT_IFS
	for rch_l in "$@"; do
		split_words "$rch_l"
		[ "$W1" = S ] || continue
		rch_id=$W3 rch_from=$W4 rch_to=$W5 rch_file=$W6 rch_sha=$W7
		if [ "$CK" = record ]; then rch_prev=$CE; else rch_prev=''; fi
		prev_prepare "$C_NAME" "${rch_prev:-none}" ||
			storage_fail "cannot write $ST/epoch.prev/$C_NAME (read-only or full?): nothing run"
		if [ "$rc_phase" = pre-flash ]; then
			preflash_mark "$C_NAME" "$rch_id" "$rch_from" "$rch_to" "$rch_file" "$rch_sha"
		fi
		jlog "run $rch_id ($C_NAME $rch_from->$rch_to, $rc_phase)"
		if MIGRATION_ROOT=$R MIGRATION_COMPONENT=$C_NAME MIGRATION_FROM=$rch_from \
			MIGRATION_TO=$rch_to MIGRATION_PHASE=$rc_phase \
			sh -e "$RUN_DIR/$rch_file" </dev/null >&3 2>&3 3>&-; then
			commit "$C_NAME" "$rch_id" "$rch_sha" "$rch_from" "$rch_to" "$rc_phase" "$rch_prev"
		else
			rch_rc=$?
			FAILED_ID=$rch_id
			# The script itself said no: its marker is not an interruption to finish.
			[ "$rc_phase" != pre-flash ] || rm -f "$ST/preflash/$C_NAME" || true
			jlog "FAILED $rch_id (exit $rch_rc)"
			record_failure "$ST/failed/$rch_id" "id=$rch_id" "component=$C_NAME" "from=$rch_from" \
				"to=$rch_to" "phase=$rc_phase" "status=$rch_rc"
			return 1
		fi
		# Committed: the marker is stale now (finish_preflash also drops a stale one that
		# this removal did not make durable).
		if [ "$rc_phase" = pre-flash ]; then
			rm -f "$ST/preflash/$C_NAME" || say "warning: cannot remove $ST/preflash/$C_NAME"
		fi
		# A success clears an earlier failure of the same script.
		if [ -f "$ST/failed/$rch_id" ]; then
			rm -f "$ST/failed/$rch_id" || say "warning: cannot clear $ST/failed/$rch_id"
		fi
		jlog "done $rch_id"
		CK=record CE=$rch_to
	done
	return 0
}

# --- interrupted pre-flash ----------------------------------------------------------------------
# A pre-flash script converts data toward ANOTHER image's format. If the power is cut while
# it runs (or before its record is durable), the flash never happens and this same image
# boots again, with data part-way to the other format while its record still says the old
# epoch: boot would see nothing to do. So each pre-flash script is announced first by a
# durable marker, preflash/<c> (id, from, to, file, sha256, then "end"), and every run
# finishes an announced script whose record is still at its `from` before anything else:
# the image that boots is the one that ran it, so it ships it (checked against its manifest).

# preflash_mark C ID FROM TO FILE SHA: the durable announcement.
preflash_mark() {
	if [ ! -d "$ST/preflash" ]; then
		if ! mkdir -p "$ST/preflash" || ! sync -- "$ST" 2>&3; then
			storage_fail "cannot create $ST/preflash (read-only or full?): $2 not run"
		fi
	fi
	if ! printf 'id=%s\nfrom=%s\nto=%s\nfile=%s\nsha256=%s\nend\n' "$2" "$3" "$4" "$5" "$6" \
		>"$ST/preflash/$1"; then
		storage_fail "cannot write $ST/preflash/$1 (read-only or full?): $2 not run"
	fi
	sync -- "$ST/preflash/$1" "$ST/preflash" 2>&3 ||
		storage_fail "sync of $ST/preflash/$1 failed: $2 not run"
}

# preflash_read FILE: a marker's fields into fp_id, fp_from, fp_to, fp_sha; fp_end=1 when
# it is complete (durable, so its script may have started).
preflash_read() {
	fp_id='' fp_from='' fp_to='' fp_sha='' fp_end=''
	while IFS= read -r fp_l; do
		case $fp_l in
		id=*) fp_id=${fp_l#id=} ;;
		from=*) fp_from=${fp_l#from=} ;;
		to=*) fp_to=${fp_l#to=} ;;
		sha256=*) fp_sha=${fp_l#sha256=} ;;
		end) fp_end=1 ;;
		esac
	done <"$1"
}

# preflash_file MANIFEST: the bundle file of the marker read last if that image ships the
# script as announced, else empty.
preflash_file() {
	awk -F '\t' -v id="$fp_id" -v sha="$fp_sha" \
		'$1 == "script" && $3 == id && $4 == sha { print $8; exit }' "$1"
}

# finish_preflash MODE (boot | pre-flash): finish or drop every marker (bundle loaded as M_).
finish_preflash() {
	for fp_m in "$ST"/preflash/*; do
		[ -f "$fp_m" ] || continue
		case $fp_m in *.tmp) continue ;; esac
		journal_open
		fp_c=${fp_m##*/}
		preflash_read "$fp_m"
		fp_state=stale
		if [ -n "$fp_end" ] && comp_index "$fp_c" M_; then
			comp_load "$CI" M_
			current_epoch
			case $CK in record | baseline) [ "$CE" = "$fp_from" ] && fp_state=interrupted ;; esac
		fi
		if [ "$fp_state" = stale ]; then
			# Torn (never synced, so its script never started), committed, or of a
			# component this image does not have.
			rm -f "$fp_m" || storage_fail "cannot remove $fp_m"
			continue
		fi
		# The script must be this image's own, as the manifest lists it (verified at load).
		fp_file=$(preflash_file "$RUN_DIR/manifest.tsv")
		if [ -z "$fp_file" ]; then
			fp_why="an interrupted pre-flash left $fp_c between epochs $fp_from and $fp_to, and this image does not ship $fp_id to finish it"
		else
			say "$fp_c: finishing $fp_id, interrupted before a flash that did not happen"
			CHAIN="S $fp_c $fp_id $fp_from $fp_to $fp_file $fp_sha
"
			FAILED_ID=
			run_chain pre-flash && continue
			fp_why="$fp_id failed while finishing an interrupted pre-flash"
		fi
		if [ "$1" = pre-flash ]; then
			die 1 "$fp_c: $fp_why: do not flash (see $J)"
		fi
		component_failed "$fp_why"
		if [ -n "$HALTED" ]; then
			final_sync
			exit 1
		fi
	done
}

# --- boot ------------------------------------------------------------------------------------------
# component_failed REASON: apply the loaded component's policy. Sets HALTED/ISOLATED.
HALTED=
ISOLATED=
component_failed() {
	cfd_reason=$1
	# A wipe resolves the failure: nothing to leave behind for it.
	if [ -z "$FAILED_ID" ] && [ "$C_POLICY" != wipe ]; then
		record_failure "$ST/failed/@$C_NAME" "component=$C_NAME" "reason=$cfd_reason" \
			"epoch=${CE:-unknown}" "imageEpoch=$C_EPOCH"
	fi
	case $C_POLICY in
	wipe)
		say "$C_NAME: $cfd_reason; policy wipe: resetting its data to epoch $C_EPOCH"
		wipe "$C_NAME" "$C_PATHS" "$C_EPOCH"
		clear_failures "$C_NAME"
		;;
	isolate)
		say "$C_NAME: $cfd_reason; policy isolate: its services will not start"
		ISOLATED="$ISOLATED $C_NAME"
		;;
	*)
		say "$C_NAME: $cfd_reason; policy halt: stopping"
		HALTED=1
		;;
	esac
}

# boot_component INDEX (after planning): bring one component to the image's epoch.
boot_component() {
	comp_load "$1" M_
	current_epoch
	case $CK in
	wiping)
		# recover() finished it; what remains is fresh or baseline data.
		current_epoch
		;;
	esac
	FAILED_ID=
	case $CK in
	corrupt)
		journal_open
		component_failed "its epoch record $ST/epoch/$C_NAME is corrupt"
		return 0
		;;
	fresh)
		journal_open
		jlog "$C_NAME: no data yet: recording epoch $C_EPOCH"
		record_epoch "$C_NAME" "$C_EPOCH"
		;;
	*)
		if [ "$CE" != "$C_EPOCH" ]; then
			CO_NAME=$C_NAME
			chain_of
			journal_open
			if [ -z "$CHAIN_OK" ]; then
				component_failed "no chain of this image's scripts from epoch $CE to $C_EPOCH"
				return 0
			fi
			if ! run_chain boot; then
				component_failed "$FAILED_ID failed"
				return 0
			fi
		fi
		;;
	esac
	clear_failures "$C_NAME"
}

cmd_boot() {
	lock_take
	if ! bundle_present "$S"; then
		say "no migration bundle in $S: nothing to do"
		exit 0
	fi
	load_bundle "$S" M_ image
	RUN_DIR=$S
	if [ -n "$HAVE_COMPONENT" ]; then
		comp_index "$COMPONENT" M_ || die 2 "unknown component $COMPONENT (not in $S/manifest.tsv)"
		bt_first=$CI bt_last=$CI
	else
		bt_first=1 bt_last=$M_N
	fi
	recover
	finish_preflash boot
	# Pass 1 (reads only): current epochs, and the chains of the components that need one.
	bt_want=
	bt_i=$bt_first
	while [ "$bt_i" -le "$bt_last" ]; do
		comp_load "$bt_i" M_
		current_epoch
		case $CK in
		record | baseline) [ "$CE" = "$C_EPOCH" ] || bt_want="$bt_want $C_NAME $CE" ;;
		esac
		bt_i=$((bt_i + 1))
	done
	if [ -n "$HAVE_COMPONENT" ]; then
		comp_load "$bt_first" M_
		current_epoch
		# Failed earlier in this boot and still not at the image's epoch: report, do not
		# run the failing script a second time in the same boot.
		if [ "$CE" != "$C_EPOCH" ] && failed_here "$C_NAME" && [ -n "$FB" ]; then
			die 1 "$C_NAME failed earlier in this boot (see $J; 'runner status')"
		fi
	fi
	plan boot "$bt_want" "$S/manifest.tsv"
	# Pass 2: run.
	bt_i=$bt_first
	while [ "$bt_i" -le "$bt_last" ]; do
		boot_component "$bt_i"
		if [ -n "$HALTED" ]; then
			final_sync
			exit 1
		fi
		bt_i=$((bt_i + 1))
	done
	if [ -n "$JOPEN" ]; then
		jlog "end: ok${ISOLATED:+ (isolated:$ISOLATED)}"
		final_sync
	fi
	if [ -n "$HAVE_COMPONENT" ] && [ -n "$ISOLATED" ]; then
		exit 1
	fi
	exit 0
}

# --- pre-flash -----------------------------------------------------------------------------------
resolve_target() {
	if [ -f "$TARGET" ]; then
		TDIR=$L/target
		mkdir "$TDIR" || die 2 "cannot create $TDIR"
		tar -xzf "$TARGET" -C "$TDIR" || die 2 "cannot extract the bundle $TARGET"
		if [ -f "$TDIR$SCRIPTS_DIR/manifest.tsv" ]; then
			TDIR=$TDIR$SCRIPTS_DIR
		elif [ -f "$TDIR/usr/share/migration.d/manifest.tsv" ]; then
			TDIR=$TDIR/usr/share/migration.d
		elif [ ! -f "$TDIR/manifest.tsv" ]; then
			die 2 "$TARGET holds no manifest.tsv"
		fi
	elif [ -d "$TARGET" ]; then
		strip_slashes "$TARGET"
		if [ -f "$SS$SCRIPTS_DIR/manifest.tsv" ]; then
			TDIR=$SS$SCRIPTS_DIR
		elif [ -f "$SS/usr/share/migration.d/manifest.tsv" ]; then
			TDIR=$SS/usr/share/migration.d
		elif [ -f "$SS/manifest.tsv" ]; then
			TDIR=$SS
		else
			die 2 "$TARGET holds no migration bundle (no manifest.tsv)"
		fi
	else
		die 2 "target $TARGET does not exist"
	fi
}

# Component facts for pre-flash: the running image's when it knows the component (its data
# layout is the running one), else the target's.
pf_load() {
	if comp_index "$1" M_; then
		comp_load "$CI" M_
	else
		comp_index "$1" T_ || return 1
		comp_load "$CI" T_
	fi
	PF_TEPOCH=
	if comp_index "$1" T_; then
		eval "PF_TEPOCH=\$T_E$CI"
	fi
	return 0
}

in_wipe_list() {
	case " $WIPE_LIST " in *" $1 "*) return 0 ;; esac
	return 1
}

cmd_preflash() {
	lock_take
	M_N=0 M_RELEASE=none
	RUN_MANIFEST=/dev/null
	if bundle_present "$S"; then
		load_bundle "$S" M_ image
		RUN_MANIFEST=$S/manifest.tsv
	fi
	RUN_DIR=$S
	resolve_target
	load_bundle "$TDIR" T_ target
	for pf_w in $WIPE_LIST; do
		comp_index "$pf_w" M_ || comp_index "$pf_w" T_ ||
			die 2 "--wipe: unknown component $pf_w (in neither image)"
	done
	# Order: the running image's components that the target also has, in the running
	# order (its scripts run now), then the target's own new ones.
	pf_order=
	pf_i=1
	while [ "$pf_i" -le "$M_N" ]; do
		eval "pf_c=\$M_C$pf_i"
		if comp_index "$pf_c" T_ || in_wipe_list "$pf_c"; then pf_order="$pf_order $pf_c"; fi
		pf_i=$((pf_i + 1))
	done
	pf_i=1
	while [ "$pf_i" -le "$T_N" ]; do
		eval "pf_c=\$T_C$pf_i"
		comp_index "$pf_c" M_ || pf_order="$pf_order $pf_c"
		pf_i=$((pf_i + 1))
	done
	recover
	finish_preflash pre-flash
	pf_want='' pf_bad=''
	for pf_c in $pf_order; do
		in_wipe_list "$pf_c" && continue
		pf_load "$pf_c"
		[ -n "$PF_TEPOCH" ] || continue
		current_epoch
		case $CK in
		corrupt) pf_bad="$pf_bad $pf_c(corrupt epoch record)" ;;
		record | baseline) [ "$CE" = "$PF_TEPOCH" ] || pf_want="$pf_want $pf_c $CE" ;;
		esac
	done
	plan preflash "$pf_want" "$RUN_MANIFEST" "$TDIR/manifest.tsv"
	# shellcheck disable=SC2086 # split on purpose: blank-free fields
	set -- $pf_want
	while [ $# -ge 2 ]; do
		CO_NAME=$1
		chain_of
		[ -n "$CHAIN_OK" ] || pf_bad="$pf_bad $1(no chain from epoch $2 to $T_RELEASE's)"
		shift 2
	done
	[ -z "$pf_bad" ] ||
		die 1 "cannot reach $T_RELEASE without wiping:$pf_bad; nothing run (plan with --allow-wipe, then pass --wipe)"
	journal_open
	jlog "pre-flash to $T_RELEASE"
	for pf_c in $pf_order; do
		pf_load "$pf_c"
		if in_wipe_list "$pf_c"; then
			say "$pf_c: wiping before the flash, as planned"
			wipe "$pf_c" "$C_PATHS" ""
			continue
		fi
		[ -n "$PF_TEPOCH" ] || continue
		current_epoch
		case $CK in record | baseline) ;; *) continue ;; esac
		[ "$CE" != "$PF_TEPOCH" ] || continue
		CO_NAME=$pf_c
		chain_of
		FAILED_ID=
		if ! run_chain pre-flash; then
			die 1 "$pf_c: $FAILED_ID failed before the flash: do not flash $T_RELEASE (see $J)"
		fi
		pf_later=$(printf '%s' "$CHAIN" | awk '$1 == "L" { printf " %s", $3 }')
		[ -z "$pf_later" ] || jlog "$pf_c: at $T_RELEASE's boot:$pf_later"
	done
	jlog "end: ready to flash $T_RELEASE"
	final_sync
	exit 0
}

# --- status --------------------------------------------------------------------------------------
json_list() {
	JL=
	for jl_x in "$@"; do
		JL="$JL${JL:+,}\"$jl_x\""
	done
}

# status_interrupted: for status, a pre-flash script of the loaded component cut by a
# power loss (see finish_preflash): the next run finishes it first, so its pending work
# starts from where that script leads (CE := its `to`; st_first := its id), or cannot
# start when this image does not ship it (CK := corrupt). st_first is empty otherwise.
status_interrupted() {
	st_first=
	[ -f "$ST/preflash/$C_NAME" ] || return 0
	case $CK in record | baseline) ;; *) return 0 ;; esac
	preflash_read "$ST/preflash/$C_NAME"
	[ -n "$fp_end" ] && [ "$CE" = "$fp_from" ] || return 0
	# Its id goes into JSON: only an id a manifest could hold (else boot cannot finish it).
	case $fp_id in
	'' | *[!a-z0-9._-]*)
		CK=corrupt
		return 0
		;;
	esac
	st_first=$fp_id
	if [ -n "$(preflash_file "$S/manifest.tsv")" ]; then CE=$fp_to; else CK=corrupt; fi
}

cmd_status() {
	if ! bundle_present "$S"; then
		M_N=0 M_RELEASE='' M_PLATFORM=-
	else
		load_bundle "$S" M_ image
	fi
	st_want=
	st_i=1
	while [ "$st_i" -le "$M_N" ]; do
		comp_load "$st_i" M_
		current_epoch
		status_interrupted
		case $CK in
		record | baseline) [ "$CE" = "$C_EPOCH" ] || st_want="$st_want $C_NAME $CE" ;;
		esac
		st_i=$((st_i + 1))
	done
	[ "$M_N" -eq 0 ] || plan boot "$st_want" "$S/manifest.tsv"
	# Failures: failed/<id> and failed/@<component>.
	st_fail_json='' st_fail_text=''
	for st_f in "$ST"/failed/*; do
		[ -f "$st_f" ] || continue
		st_id=${st_f##*/}
		case $st_id in *.tmp) continue ;; esac
		case ${st_id#@} in
		'' | *[!a-z0-9._-]*) continue ;;
		esac
		failure_component "$st_f"
		if valid_name "$FC"; then st_fc="\"$FC\""; else st_fc=null FC="?"; fi
		st_fail_json="$st_fail_json${st_fail_json:+,}{\"id\":\"$st_id\",\"component\":$st_fc}"
		st_fail_text="$st_fail_text  $st_id ($FC)
"
	done
	st_rows='' st_comps=''
	st_i=1
	while [ "$st_i" -le "$M_N" ]; do
		comp_load "$st_i" M_
		current_epoch
		case $CK in
		wiping)
			# As boot will see it once the wipe is finished.
			if [ -n "$C_PATHS" ]; then CE=$C_EPOCH; else CE=$C_BASE; fi
			CK=wiping
			;;
		esac
		st_pending=
		st_state=ok
		st_epoch=$CE
		status_interrupted
		if [ -n "$st_first" ]; then st_int="\"$st_first\""; else st_int=null; fi
		if [ "$CK" = corrupt ]; then
			st_state=corrupt
		elif [ "$CE" != "$C_EPOCH" ]; then
			CO_NAME=$C_NAME
			chain_of
			if [ -n "$CHAIN_OK" ]; then
				st_state=pending
				st_pending=$(printf '%s' "$CHAIN" | awk '$1 == "S" { printf " %s", $3 }')
			else
				st_state=unreachable
			fi
		fi
		[ "$CK" != wiping ] || st_state=wiping
		st_pending=${st_first:+$st_first }${st_pending# }
		st_pending=${st_pending% }
		if [ -n "$st_first" ]; then
			case $st_state in
			corrupt | unreachable) st_state=interrupted,unreachable ;;
			*) st_state=interrupted ;;
			esac
		fi
		CE=$st_epoch
		if failed_here "$C_NAME"; then st_failed=true; else st_failed=false; fi
		# shellcheck disable=SC2086 # ids are space-separated and blank-free
		json_list $st_pending
		st_comps="$st_comps${st_comps:+,}{\"name\":\"$C_NAME\",\"epoch\":${CE:-null},\"imageEpoch\":$C_EPOCH,\"pending\":[$JL],\"interrupted\":$st_int,\"failed\":$st_failed}"
		[ "$st_failed" = false ] || st_state="$st_state,failed"
		st_rows="$st_rows$C_NAME	${CE:-?}	$C_EPOCH	$st_state	${st_pending:--}
"
		st_i=$((st_i + 1))
	done
	if [ -n "$JSON" ]; then
		if [ -n "$M_RELEASE" ]; then st_rel="\"$M_RELEASE\""; else st_rel=null; fi
		if [ "$M_PLATFORM" = - ]; then st_plat=null; else st_plat="\"$M_PLATFORM\""; fi
		printf '{"release":%s,"platform":%s,"components":[%s],"failures":[%s]}\n' \
			"$st_rel" "$st_plat" "$st_comps" "$st_fail_json"
		exit 0
	fi
	if [ -z "$M_RELEASE" ]; then
		printf 'no migration bundle in %s\n' "$S"
	else
		printf 'release %s, platform %s\n' "$M_RELEASE" "$M_PLATFORM"
		printf '%s' "COMPONENT	EPOCH	IMAGE	STATE	PENDING
$st_rows" | awk -F '\t' '
			{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } ; n = NR; nf = NF }
			END { for (r = 1; r <= n; r++) { line = ""; for (i = 1; i < nf; i++) line = line sprintf("%-" (w[i] + 2) "s", cell[r, i]); print line cell[r, nf] } }'
	fi
	if [ -n "$st_fail_text" ]; then
		printf 'failures:\n%s' "$st_fail_text"
	fi
	exit 0
}

case $CMD in
boot) cmd_boot ;;
pre-flash) cmd_preflash ;;
status) cmd_status ;;
esac
