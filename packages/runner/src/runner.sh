#!/bin/sh
# stepstone migration runner: brings the persistent data of a device to the format of the
# image it runs, at boot or before a flash. Emitted by `stepstone runner`; the @...@ values
# below are set at emit time. One POSIX sh file: it runs under busybox ash and dash and uses
# only applets found in common busybox builds (no flock, no `sync -f`, no `readlink -f`,
# no mktemp). Its contract, as built, is packages/runner/README.md.
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
#   1. run the script (`sh -e`).
#   2. barrier 1: `sync` (global: the script may have written anywhere).
#   3. the record: in place when epoch/<c> is whole and <to> has as many digits as
#      <from> (an overwrite that keeps the file's size: atomic, see record_write); else
#      the companion slot that does not hold the last value (epoch.prev/<c> or
#      epoch.prev/<c>.b: "SEQ <to>", see slots_load), then beside it epoch/<c> := <to>.
#   4. barrier 2: `sync -- [SLOT] epoch/<c>` (fsync, which reports I/O errors; sync(2)
#      returns nothing on Linux), with their folders when a file was just created.
# Nothing else is written between one commit and the next barrier 1 (applied/<id> and
# the journal lines are written when the chain ends: see applying_announce), so a script
# that writes nothing costs that barrier nothing. Before a script whose record is written
# beside the companion, the durable slot is made to hold <from> (or "none"); the first
# in-place write after that marks the companion "inplace" (it then holds no value).
# A crash can tear only a file being rewritten with a change of size:
#   - before barrier 1 completes: epoch/<c> still holds <from> (it is not touched before
#     step 3), so the script runs again at the next boot: scripts are re-runnable.
#   - during 3-4, in place: epoch/<c> holds <from> or <to>, both consistent with the data.
#   - during 3-4, beside the companion: the effects are durable (barrier 1). epoch/<c>
#     may be old, new, empty, zero-filled or a torn prefix, and so may the slot being
#     written; the other slot is durable and holds <from>. Only what a crash can leave
#     counts as torn (nothing, NULs, or digits without their newline): recovery takes the
#     whole slot of the higher SEQ, <from> (the script runs again on its own output,
#     which re-runnable scripts allow) or <to> (its effects are durable), and a boot
#     rewrites the record. A torn record whose companion says "inplace", and anything
#     else (`abc`, `-1`, two lines), is not a crash artefact and is reported as a
#     corrupt record. applied/<id> may be missing or torn: the next run that writes
#     rewrites it from the list of chains (applying) or the manifest (it exists only once
#     the effects are durable: never early).
#   - after 4: <to> is durable; the next script starts only now.
# Cost: two processes per script beyond the script (the barriers), nothing else per script:
# the lock, hashing, signature, the chain choice, the watchdog and the executor that puts
# scripts in their own process group are once per run, and a boot with nothing to do
# decides that with shell builtins alone (no process at all).
#
# Wipes delete data, so they are redone rather than undone: a durable marker
# wiping/<c> (written and synced before anything is deleted) lists the paths; a run that
# finds one finishes the wipe before anything else.

set -eu

# --- emit-time configuration -------------------------------------------------------------
SCRIPTS_DIR='@SCRIPTS_DIR@'
STATE_DIR='@STATE_DIR@'
UPPER_DIR='@UPPER_DIR@'
LOCK_DIR='@LOCK_DIR@'
SCRIPT_TIMEOUT='@SCRIPT_TIMEOUT@'

PROG=runner
LC_ALL=C
export LC_ALL
umask 022
: "${PATH:=/usr/sbin:/usr/bin:/sbin:/bin}"
export PATH
# Long strings are built this many lines at a time (see "the manifest" below).
CHUNK=16
# The journal is kept under about this size (plus one rotation): persistent layers are small.
JOURNAL_MAX=65536
# At most this much of one script's output reaches the journal (its end: errors come last).
OUTPUT_MAX=16384
# A busy lock is waited for this long (seconds), then the run fails.
LOCK_TIMEOUT=${MIGRATION_LOCK_TIMEOUT:-60}
case $LOCK_TIMEOUT in '' | *[!0-9]*) LOCK_TIMEOUT=60 ;; esac

NL='
'
TAB='	'
DEFAULT_IFS=" $TAB$NL"

# --- messages and exit ---------------------------------------------------------------------
JOPEN=
CMD=
JSIZE=0

jlog() {
	[ -n "$JOPEN" ] || return 0
	now
	jlog_at "$@"
}

# jlog_at MESSAGE: a journal line at NOW as it was last taken (the per-script path reads
# the clock once for its line and its deadline).
jlog_at() {
	[ -n "$JOPEN" ] || return 0
	jl_line="$NOW ${CMD:-runner}[$$]: $*"
	JSIZE=$((JSIZE + ${#jl_line} + 1))
	if [ -n "$JBUFFER" ]; then
		JB_CHUNK=$JB_CHUNK$jl_line$NL JB_LEN=$((JB_LEN + ${#jl_line} + 1)) JB_K=$((JB_K + 1))
		[ "$JB_K" -lt "$CHUNK" ] || JBUF=$JBUF$JB_CHUNK JB_CHUNK='' JB_K=0
		[ "$JB_LEN" -lt "$JBUF_MAX" ] || journal_flush
		return 0
	fi
	# The journal is diagnostics: a full disk must not stop a commit half way because a
	# log line could not be written (the record writes report storage errors themselves).
	printf '%s\n' "$jl_line" >&3 2>/dev/null || true
}

# While a chain runs, journal lines are kept in memory and written when it ends (or every
# JBUF_MAX bytes, and at exit): one more file dirtied between a script's barriers costs its
# sync a data block and a metadata block, as much as a second record. A power cut loses
# the lines of the chain it cut, and the next run says what that chain committed (its
# records are rewritten from the list of chains, each with a journal line).
JBUF='' JBUFFER='' JB_CHUNK='' JB_LEN=0 JB_K=0
JBUF_MAX=8192
journal_flush() {
	JBUF=$JBUF$JB_CHUNK JB_CHUNK='' JB_LEN=0 JB_K=0
	[ -n "$JBUF" ] || return 0
	printf '%s' "$JBUF" >&3 2>/dev/null || true
	JBUF=''
}

say() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	jlog "$*"
}

die() {
	die_code=$1
	shift
	# An integrity refusal is kept in the journal too, by a run that holds the lock (a
	# read-only status writes nothing): the device's own record of a tampered bundle.
	if [ "$die_code" = 3 ] && [ -n "$GEN" ] && journal_try journal-only 2>/dev/null; then
		say "$*"
		jlog "end: refused (exit 3), nothing run"
		exit 3
	fi
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

for v in "$SCRIPTS_DIR" "$STATE_DIR" "$UPPER_DIR" "$LOCK_DIR" "$SCRIPT_TIMEOUT"; do
	case $v in @*@) die 2 "this runner was not configured: emit it with 'stepstone runner'" ;; esac
done
case $SCRIPT_TIMEOUT in '' | 0 | *[!0-9]*) die 2 "bad script timeout $SCRIPT_TIMEOUT" ;; esac

# --- the executor ------------------------------------------------------------------------------
# `runner __executor ...` is started once per run, in a session of its own (setsid), so
# that a script past its timeout can be killed with its whole process group without
# killing the runner. It reads "SEQ PHASE COMPONENT FROM TO FILE" lines from a FIFO (FILE in
# the image's bundle folder: the only scripts that ever run are the running image's), runs
# each script with its output in a file of the run's private folder, and answers "SEQ
# STATUS". One process per script, as a plain loop would cost.
if [ "${1:-}" = __executor ]; then
	[ $# -eq 4 ] || exit 2
	ex_root=$2 ex_work=$3 ex_dir=$4
	exec 4<"$ex_work/cmd" 5>"$ex_work/res"
	cd / || exit 2
	while IFS=' ' read -r ex_seq ex_phase ex_c ex_from ex_to ex_file <&4; do
		if MIGRATION_ROOT=$ex_root MIGRATION_COMPONENT=$ex_c MIGRATION_FROM=$ex_from \
			MIGRATION_TO=$ex_to MIGRATION_PHASE=$ex_phase \
			sh -e "$ex_dir/$ex_file" </dev/null >"$ex_work/out" 2>&1 4<&- 5>&-; then
			ex_rc=0
		else
			ex_rc=$?
		fi
		printf '%s %s\n' "$ex_seq" "$ex_rc" >&5
	done
	exit 0
fi

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
U=$R$UP
L=$R$LOCK_DIR
J=$ST/journal
case $0 in
/*) SELF=$0 ;;
*) SELF=$PWD/$0 ;;
esac
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

# --- small helpers -------------------------------------------------------------------------------
# split_words LINE: W1..W7 := its first seven blank-separated words (no globbing).
split_words() {
	set -f
	# shellcheck disable=SC2086 # split on purpose: blank-free fields
	set -- $1
	set +f
	W1=${1:-} W2=${2:-} W3=${3:-} W4=${4:-} W5=${5:-} W6=${6:-} W7=${7:-}
	NW=$#
}

# isint VALUE: a canonical decimal integer of at most 9 digits (shell arithmetic and awk
# never overflow on it), as the generator writes them.
isint() {
	case $1 in
	0) return 0 ;;
	'' | 0* | *[!0-9]*) return 1 ;;
	esac
	[ ${#1} -le 9 ]
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

# read_text FILE: RT := the file's bytes (NULs dropped), the one read of a manifest,
# verified in this form (WORK open). One `cat`: the shell's `read` costs a system call per
# byte, 24,000 for a manifest of 200 scripts. The "x" after it keeps the trailing newlines
# that $(...) strips, and as the one command of the substitution, cat is its only process.
read_text() {
	RT=
	[ -f "$1" ] && [ ! -L "$1" ] || return 1
	printf x >"$WORK/eof" || return 1
	RT=$(cat -- "$1" "$WORK/eof") || return 1
	RT=${RT%x}
}

# dir_entries DIR: DE := the names in DIR (hidden ones too), newline-separated.
# DE_ODD := the first name holding a newline (it would split into two), "" when none does.
dir_entries() {
	DE='' DE_ODD=''
	for de_f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		exists "$de_f" || continue
		case ${de_f##*/} in *"$NL"*) [ -n "$DE_ODD" ] || DE_ODD=${de_f##*/} ;; esac
		DE=$DE${de_f##*/}$NL
	done
}

# --- the manifest (parsed once, from the copy that is verified) ---------------------------------
# Long tables (and the chains, the records and the journal lines a run keeps) are built
# CHUNK lines at a time: `x=$x$y` copies x (character by character in
# dash), so a table grown one line at a time costs time quadratic in its length, 27 million
# instructions for 200 lines; in chunks, a quarter of that. Names already seen (ids and
# files, for duplicates and unlisted files) are empty marker files in the run's private
# folder (a tmpfs): a lookup is one stat, where a search of a growing string is quadratic.
MP_NTH=0 P_MARK=''
# manifest_parse LABEL: parse RT into P_RELEASE, P_PLATFORM and three newline-separated
# tables: P_COMPS "name epoch baseline policy paths" (paths comma-separated or -),
# P_KEYS "id sha256 file", P_SCRIPTS "id sha256 component from to file" (P_NFILES lines,
# each id and file marked as $P_MARK.id.ID and $P_MARK.file.FILE, P_MARK a prefix in WORK
# of this parse's own). Every field is
# checked against the character set the generator writes, so the tables can be split on
# blanks safely. Lines of unknown kinds are ignored (a newer generator may add some).
manifest_parse() {
	mp_label=$1
	P_RELEASE='' P_PLATFORM=- P_COMPS='' P_KEYS='' P_SCRIPTS='' P_NFILES=0
	mp_n=0 mp_have_platform=
	mp_cnames=' ' mp_kfiles=' ' mp_chunk='' mp_k=0
	MP_NTH=$((MP_NTH + 1)) P_MARK=$WORK/$mp_label.$MP_NTH
	IFS=$NL
	set -f
	# shellcheck disable=SC2086 # one word per line, blank lines dropped
	set -- $RT
	IFS=$DEFAULT_IFS
	for mp_line in "$@"; do
		mp_n=$((mp_n + 1))
		case $mp_line in '#'*) continue ;; esac
		mp_at="$mp_label: manifest.tsv: line $mp_n"
		case $mp_line in *' '*) die 2 "$mp_at: a field holds a blank" ;; esac
		IFS=$TAB
		# shellcheck disable=SC2086 # tab-separated fields
		set -- $mp_line
		IFS=$DEFAULT_IFS
		case $1 in
		release)
			[ $# -eq 2 ] || die 2 "$mp_at: a release line has 2 fields"
			case $2 in [0-9A-Za-z]*) ;; *) die 2 "$mp_at: bad release $2" ;; esac
			case $2 in *[!0-9A-Za-z.+-]*) die 2 "$mp_at: bad release $2" ;; esac
			[ -z "$P_RELEASE" ] || die 2 "$mp_at: a second release line"
			P_RELEASE=$2
			;;
		platform)
			[ $# -eq 2 ] || die 2 "$mp_at: a platform line has 2 fields"
			case $2 in - | [A-Za-z0-9]*) ;; *) die 2 "$mp_at: bad platform $2" ;; esac
			case $2 in *[!A-Za-z0-9._-]*) die 2 "$mp_at: bad platform $2" ;; esac
			[ -z "$mp_have_platform" ] || die 2 "$mp_at: a second platform line"
			mp_have_platform=1 P_PLATFORM=$2
			;;
		component)
			[ $# -eq 6 ] || die 2 "$mp_at: a component line has 6 fields"
			valid_name "$2" || die 2 "$mp_at: bad component name $2"
			case $mp_cnames in *" $2 "*) die 2 "$mp_at: component $2 declared twice" ;; esac
			{ isint "$3" && isint "$4"; } || die 2 "$mp_at: bad epoch or baseline for $2"
			case $5 in halt | isolate | wipe) ;; *) die 2 "$mp_at: bad onFailure $5 for $2" ;; esac
			if [ "$6" != - ]; then
				IFS=,
				for mp_p in $6; do
					valid_path "$mp_p" || die 2 "$mp_at: bad path $mp_p of $2"
				done
				IFS=$DEFAULT_IFS
				case ,$6, in *,,*) die 2 "$mp_at: bad paths of $2" ;; esac
			fi
			mp_cnames="$mp_cnames$2 "
			P_COMPS="$P_COMPS$2 $3 $4 $5 $6$NL"
			;;
		key)
			[ $# -eq 4 ] || die 2 "$mp_at: a key line has 4 fields"
			case $2 in [A-Za-z0-9]*) ;; *) die 2 "$mp_at: bad key id $2" ;; esac
			case $2 in *[!A-Za-z0-9._-]*) die 2 "$mp_at: bad key id $2" ;; esac
			sha_ok "$3" || die 2 "$mp_at: bad sha256 for key $2"
			[ "$4" = "keys/$2.pem" ] || die 2 "$mp_at: key $2 must be the file keys/$2.pem"
			case $mp_kfiles in *" $4 "*) die 2 "$mp_at: key $2 listed twice" ;; esac
			mp_kfiles="$mp_kfiles$4 "
			P_KEYS="$P_KEYS$2 $3 $4$NL"
			;;
		script)
			[ $# -eq 8 ] || die 2 "$mp_at: a script line has 8 fields"
			isint "$2" || die 2 "$mp_at: bad order $2"
			case $3 in [a-z0-9]*) ;; *) die 2 "$mp_at: bad script id $3" ;; esac
			case $3 in *[!a-z0-9._-]* | *.tmp) die 2 "$mp_at: bad script id $3" ;; esac
			[ ! -e "$P_MARK.id.$3" ] || die 2 "$mp_at: script $3 listed twice"
			sha_ok "$4" || die 2 "$mp_at: bad sha256 for $3"
			case $mp_cnames in *" $5 "*) ;; *) die 2 "$mp_at: script $3 of undeclared component $5" ;; esac
			{ isint "$6" && isint "$7" && [ "$6" != "$7" ]; } || die 2 "$mp_at: bad from/to epochs for $3"
			case $8 in [A-Za-z0-9]*) ;; *) die 2 "$mp_at: bad file name $8" ;; esac
			case $8 in *[!A-Za-z0-9._+-]* | manifest.*) die 2 "$mp_at: bad file name $8" ;; esac
			[ ! -e "$P_MARK.file.$8" ] || die 2 "$mp_at: file $8 listed twice"
			{ : >"$P_MARK.id.$3" && : >"$P_MARK.file.$8"; } ||
				die 1 "cannot write in $WORK"
			P_NFILES=$((P_NFILES + 1))
			mp_chunk="$mp_chunk$3 $4 $5 $6 $7 $8$NL" mp_k=$((mp_k + 1))
			[ "$mp_k" -lt "$CHUNK" ] || P_SCRIPTS=$P_SCRIPTS$mp_chunk mp_chunk='' mp_k=0
			;;
		esac
	done
	set +f
	P_SCRIPTS=$P_SCRIPTS$mp_chunk
	[ -n "$P_RELEASE" ] || die 2 "$mp_label: manifest.tsv has no release line"
}

sha_ok() {
	[ ${#1} -eq 64 ] || return 1
	case $1 in *[!0-9a-f]*) return 1 ;; esac
	return 0
}

# comp_find NAME TABLE: load the component NAME of that P_COMPS-style table into C_NAME,
# C_EPOCH, C_BASE, C_POLICY and C_PATHS (blank-separated); fails when it is not there.
comp_find() {
	cf_all=$NL$2
	case $cf_all in *"$NL$1 "*) ;; *) return 1 ;; esac
	cf_rest=${cf_all#*"$NL$1 "}
	comp_set "$1 ${cf_rest%%"$NL"*}"
}

# comp_set LINE: the fields of one P_COMPS line.
comp_set() {
	split_words "$1"
	C_NAME=$W1 C_EPOCH=$W2 C_BASE=$W3 C_POLICY=$W4
	paths_of "$W5"
}

# paths_of FIELD: C_PATHS := the comma-separated paths of a component line, blank-separated.
paths_of() {
	C_PATHS=
	[ "$1" != - ] || return 0
	IFS=,
	set -f
	for po_p in $1; do
		C_PATHS="$C_PATHS${C_PATHS:+ }$po_p"
	done
	set +f
	IFS=$DEFAULT_IFS
}

# --- integrity -----------------------------------------------------------------------------------
# bundle_load DIR LABEL self|running: read DIR/manifest.tsv once, parse it, and prove the
# bundle: exactly the listed scripts and keys are there (regular files, not links), each
# with its sha256, and, when the trust store is not empty, manifest.tsv.sig verifies the
# copy that was parsed with one of its keys. The trust store is the bundle's own keys for
# the image's bundle (`self`), the running image's (M_KEYS, verified before) for a target.
# Anything else is exit 3 with nothing run. The parsed tables stay in P_*.
bundle_load() {
	bl_dir=$1 bl_label=$2
	read_text "$bl_dir/manifest.tsv" || die 3 "$bl_label: cannot read $bl_dir/manifest.tsv: nothing run"
	manifest_parse "$bl_label"
	# The copy that was parsed is what the signature is checked on and the chains are read from.
	printf '%s' "$RT" >"$WORK/$bl_label.manifest.tsv" || die 1 "cannot write $WORK/$bl_label.manifest.tsv"
	bundle_files "$bl_dir" "$bl_label"
	bundle_hashes "$bl_dir" "$bl_label"
	if [ "$3" = self ]; then
		bl_trust=$P_KEYS TRUST_DIR=$bl_dir
	else
		bl_trust=$M_KEYS TRUST_DIR=$S
	fi
	[ -z "$bl_trust" ] || bundle_signature "$bl_dir" "$bl_label" "$bl_trust"
}

# bundle_files DIR LABEL: nothing but the manifest files, the listed scripts and keys/ with
# the listed keys. A name outside the generator's character set (a newline, a blank) is
# refused before any tool sees it: `sha256sum` does not escape such names alike everywhere.
bundle_files() {
	bf_keys=' '
	IFS=$NL
	set -f
	for bf_l in $P_KEYS; do
		IFS=$DEFAULT_IFS
		split_words "$bf_l"
		bf_keys="$bf_keys$W3 "
	done
	IFS=$DEFAULT_IFS
	set +f
	dir_entries "$1"
	[ -z "$DE_ODD" ] || die 3 "$2: unexpected file '$DE_ODD' (a name with a newline) in the bundle: nothing run"
	bf_entries=$DE bf_n=0
	IFS=$NL
	set -f
	for bf_f in $bf_entries; do
		IFS=$DEFAULT_IFS
		case $bf_f in *[!A-Za-z0-9._+-]* | '') die 3 "$2: unexpected file '$bf_f' in the bundle: nothing run" ;; esac
		if [ -L "$1/$bf_f" ]; then
			die 3 "$2: $bf_f is a link; a bundle holds regular files only: nothing run"
		fi
		case $bf_f in
		manifest.tsv | manifest.json | manifest.tsv.sig)
			[ -f "$1/$bf_f" ] || die 3 "$2: $bf_f is not a regular file: nothing run"
			continue
			;;
		keys)
			[ -d "$1/keys" ] || die 3 "$2: keys is not a directory: nothing run"
			continue
			;;
		esac
		[ ! -d "$1/$bf_f" ] || die 3 "$2: unexpected directory $bf_f in the bundle: nothing run"
		[ -e "$P_MARK.file.$bf_f" ] || die 3 "$2: $bf_f is not listed in manifest.tsv: nothing run"
		[ -f "$1/$bf_f" ] || die 3 "$2: $bf_f is not a regular file: nothing run"
		bf_n=$((bf_n + 1))
	done
	IFS=$DEFAULT_IFS
	set +f
	if [ -d "$1/keys" ]; then
		dir_entries "$1/keys"
		[ -z "$DE_ODD" ] || die 3 "$2: unexpected file '$DE_ODD' (a name with a newline) in keys/: nothing run"
		IFS=$NL
		set -f
		for bf_f in $DE; do
			IFS=$DEFAULT_IFS
			case $bf_f in *[!A-Za-z0-9._+-]* | '') die 3 "$2: unexpected file '$bf_f' in keys/: nothing run" ;; esac
			case $bf_keys in *" keys/$bf_f "*) ;; *) die 3 "$2: keys/$bf_f is not a key manifest.tsv lists (the image trusts exactly the keys its manifest lists): nothing run" ;; esac
			[ ! -L "$1/keys/$bf_f" ] || die 3 "$2: keys/$bf_f is a link; keys are regular files: nothing run"
			{ [ -f "$1/keys/$bf_f" ] && [ -r "$1/keys/$bf_f" ]; } || die 3 "$2: keys/$bf_f is not a readable regular file: nothing run"
		done
		IFS=$DEFAULT_IFS
		set +f
	fi
	# Listed but missing. Each regular file counted above is a distinct listed one, and
	# listed names are distinct (manifest_parse): equal counts mean all are there.
	for bf_f in $bf_keys; do
		{ [ -f "$1/$bf_f" ] && [ ! -L "$1/$bf_f" ]; } || die 3 "$2: $bf_f is listed in manifest.tsv but missing: nothing run"
	done
	[ "$bf_n" -ne "$P_NFILES" ] || return 0
	IFS=$NL
	set -f
	for bf_l in $P_SCRIPTS; do
		IFS=$DEFAULT_IFS
		split_words "$bf_l"
		{ [ -f "$1/$W6" ] && [ ! -L "$1/$W6" ]; } || die 3 "$2: $W6 is listed in manifest.tsv but missing: nothing run"
	done
	IFS=$DEFAULT_IFS
	set +f
	die 3 "$2: the bundle's files are not the ones manifest.tsv lists: nothing run"
}

# bundle_hashes DIR LABEL: one sha256sum for every listed file; its output must be exactly
# one "<sha256>  ./<name>" line per file, in order, each with the listed sum.
bundle_hashes() {
	bh_dir=$1 bh_label=$2
	bh_expect='' bh_files='' bh_ce='' bh_cf='' bh_k=0
	IFS=$NL
	set -f
	for bh_l in $P_SCRIPTS $P_KEYS; do
		IFS=$DEFAULT_IFS
		split_words "$bh_l"
		if [ "$NW" -eq 6 ]; then bh_f=$W6; else bh_f=$W3; fi
		bh_cf="$bh_cf ./$bh_f" bh_ce="$bh_ce$W2  ./$bh_f$NL" bh_k=$((bh_k + 1))
		[ "$bh_k" -lt "$CHUNK" ] || bh_files=$bh_files$bh_cf bh_expect=$bh_expect$bh_ce bh_cf='' bh_ce='' bh_k=0
	done
	IFS=$DEFAULT_IFS
	bh_files=$bh_files$bh_cf bh_expect=$bh_expect$bh_ce
	# Names without blanks or glob characters (checked): split into the arguments at once.
	# shellcheck disable=SC2086 # split on purpose
	set -- $bh_files
	set +f
	[ $# -gt 0 ] || return 0
	command -v sha256sum >/dev/null 2>&1 || die 3 "$bh_label: sha256sum not found: nothing run"
	bh_got=$(cd "$bh_dir" && sha256sum -- "$@") || die 3 "$bh_label: cannot hash the bundle's files: nothing run"
	[ "$bh_got$NL" = "$bh_expect" ] && return 0
	# Say which one.
	IFS=$NL
	set -f
	for bh_l in $bh_expect; do
		case $NL$bh_got$NL in
		*"$NL$bh_l$NL"*) ;;
		*) die 3 "$bh_label: the sha256 of ${bh_l##* ./} does not match manifest.tsv: nothing run" ;;
		esac
	done
	die 3 "$bh_label: the bundle's files do not hash as manifest.tsv says: nothing run"
}

# bundle_signature DIR LABEL TRUST: manifest.tsv.sig over the parsed copy (written to the
# run's private folder: what openssl checks is what was parsed), with any key of TRUST.
bundle_signature() {
	[ -f "$1/manifest.tsv.sig" ] ||
		die 3 "$2: the image trusts signing keys but manifest.tsv.sig is missing: nothing run"
	command -v openssl >/dev/null 2>&1 ||
		die 3 "$2: openssl is needed to verify manifest.tsv.sig and was not found: nothing run"
	bs_copy=$WORK/$2.manifest.tsv
	IFS=$NL
	set -f
	for bs_l in $3; do
		IFS=$DEFAULT_IFS
		split_words "$bs_l"
		if openssl pkeyutl -verify -pubin -inkey "$TRUST_DIR/$W3" -rawin -in "$bs_copy" \
			-sigfile "$1/manifest.tsv.sig" </dev/null >/dev/null 2>&1; then
			IFS=$DEFAULT_IFS
			set +f
			return 0
		fi
	done
	IFS=$DEFAULT_IFS
	set +f
	die 3 "$2: manifest.tsv.sig does not verify with any key the image trusts ($(printf '%s' "$3" | awk '{ printf "%s%s", s, $1; s = ", " }')): nothing run"
}

# bundle_present DIR: 0 a bundle is there; 1 nothing is there (an image without migrations);
# exits 3 when files are there without a manifest (nothing can vouch for them).
bundle_present() {
	[ -f "$1/manifest.tsv" ] && return 0
	[ -d "$1" ] || return 1
	dir_entries "$1"
	[ -z "$DE" ] || die 3 "$1 holds files but no manifest.tsv: nothing run"
	return 1
}

# --- epochs --------------------------------------------------------------------------------------
# record_read FILE: EK := value (EV := the epoch) | torn | garbage | none. Torn is only
# what an interrupted rewrite can leave: nothing, NULs (dropped by `read`), or digits
# without their newline; a complete line that is not an integer, or a second line, is not.
record_read() {
	EK=none EV=
	exists "$1" || return 0
	[ -f "$1" ] || {
		EK=garbage
		return 0
	}
	rr_first=1 rr_lines=0 rr_a='' rr_last=''
	{
		while IFS= read -r rr_l; do
			rr_lines=$((rr_lines + 1))
			[ -z "$rr_first" ] || rr_a=$rr_l
			rr_first=
		done
		rr_last=$rr_l
	} <"$1"
	if [ "$rr_lines" -eq 0 ]; then
		# No newline at all: empty, NULs or a prefix of "<digits>".
		case $rr_last in *[!0-9]*) EK=garbage ;; *) EK=torn ;; esac
		return 0
	fi
	if [ "$rr_lines" -eq 1 ] && [ -z "$rr_last" ] && isint "$rr_a"; then
		EK=value EV=$rr_a
		return 0
	fi
	EK=garbage
}

# epoch_state C: EK := value (EV) | none | corrupt (with ER := why), from epoch/<c> and its
# companion epoch.prev/<c>, which holds what was durable while epoch/<c> was rewritten.
epoch_state() {
	ER='' ET=
	record_read "$ST/epoch/$1"
	case $EK in
	value | none) return 0 ;;
	garbage)
		EK=corrupt ER="its epoch record $ST/epoch/$1 is not one integer line (no crash leaves that)"
		return 0
		;;
	esac
	if ! exists "$ST/epoch.prev/$1" && ! exists "$ST/epoch.prev/$1.b"; then
		EK=corrupt ER="its epoch record $ST/epoch/$1 is torn and has no companion"
		return 0
	fi
	slots_load "$1"
	case $SL_VAL in
	none) EK=none ET=1 ;;
	inplace) EK=corrupt ER="its epoch record $ST/epoch/$1 is damaged: it was last rewritten in place, which a power cut does not tear (storage fault?)" ;;
	'') EK=corrupt ER="its epoch record $ST/epoch/$1 is torn and its companion is unreadable" ;;
	*) EK=value EV=$SL_VAL ET=1 ;;
	esac
}

# --- the companion of epoch/<c>: two slots --------------------------------------------------
# epoch.prev/<c> and epoch.prev/<c>.b each hold one line "SEQ VALUE" (VALUE an epoch or
# "none"), padded with blanks to a fixed width and rewritten in place. The slot with the
# higher SEQ holds the value of the last completed commit: while epoch/<c> is rewritten,
# the other slot is rewritten beside it with the new value, and both are fsynced by the
# commit's barrier 2. So at any instant one slot is durable and whole; a cut can tear
# epoch/<c> and the slot being written, never the other. Recovery takes the whole slot of
# the higher SEQ: the old value (the script runs again on its own output) or the new one
# (its effects were durable before either record was touched). Nothing is written
# between one commit and the next script's barrier 1, so a script that writes nothing
# costs that barrier nothing. A line of one field is an older runner's companion (SEQ 0).
# SL_C: the component whose slots are known; SL_SEQ, SL_VAL: the durable slot;
# SL_NEXT: the file the next write goes to; SL_WHOLE: it holds a whole line (in place).
SL_C='' SL_SEQ=0 SL_VAL='' SL_NEXT='' SL_WHOLE=''

# slot_read FILE: SR_SEQ, SR_VAL := the slot's fields ("" when missing or not one line).
slot_read() {
	SR_SEQ='' SR_VAL='' sr_f=$1
	read_first "$sr_f" || return 0
	set -f
	# shellcheck disable=SC2086 # split on purpose: blank-separated fields
	set -- $RL
	set +f
	case $# in
	1) sr_s=0 sr_v=$1 ;;
	2) sr_s=$1 sr_v=$2 ;;
	*) return 0 ;;
	esac
	isint "$sr_s" || return 0
	case $sr_v in none | inplace) ;; *) isint "$sr_v" || return 0 ;; esac
	# One line only: nothing after its newline.
	sr_n=0
	while IFS= read -r sr_l || [ -n "$sr_l" ]; do
		sr_n=$((sr_n + 1))
	done <"$sr_f"
	[ "$sr_n" -eq 1 ] || return 0
	SR_SEQ=$sr_s SR_VAL=$sr_v
}

# slots_load C: SL_* from C's two slots.
slots_load() {
	SL_C=$1
	slot_read "$ST/epoch.prev/$1"
	sl_as=$SR_SEQ sl_av=$SR_VAL
	slot_read "$ST/epoch.prev/$1.b"
	if [ -n "$sl_as" ] && { [ -z "$SR_SEQ" ] || [ "$sl_as" -ge "$SR_SEQ" ]; }; then
		SL_SEQ=$sl_as SL_VAL=$sl_av SL_NEXT=$ST/epoch.prev/$1.b
		SL_WHOLE=${SR_SEQ:+1}
	elif [ -n "$SR_SEQ" ]; then
		SL_SEQ=$SR_SEQ SL_VAL=$SR_VAL SL_NEXT=$ST/epoch.prev/$1
		SL_WHOLE=${sl_as:+1}
	else
		SL_SEQ=0 SL_VAL='' SL_NEXT=$ST/epoch.prev/$1 SL_WHOLE=''
	fi
}

# slot_write VALUE: the next slot := "SEQ+1 VALUE" (SL_C loaded); then it is the durable
# one (once synced). SW_NEW: the file did not exist (its folder needs a sync too).
slot_write() {
	sw_seq=$((SL_SEQ + 1))
	SW_NEW=''
	if [ -n "$SL_WHOLE" ]; then
		# In place: an overwrite of a block that stays allocated, no truncation.
		printf '%-9s %-9s\n' "$sw_seq" "$1" 1<>"$SL_NEXT" || return 1
	else
		exists "$SL_NEXT" || SW_NEW=1
		printf '%-9s %-9s\n' "$sw_seq" "$1" >"$SL_NEXT" || return 1
	fi
	sw_file=$SL_NEXT
	case $SL_NEXT in *.b) SL_NEXT=${SL_NEXT%.b} ;; *) SL_NEXT=$SL_NEXT.b ;; esac
	SL_SEQ=$sw_seq SL_VAL=$1 SL_WHOLE=1
	SW_FILE=$sw_file
}

# slot_prepare C VALUE|none: before the first write of C's epoch in a run, the durable slot
# must hold C's current value; written (then flushed by the barrier that follows) only
# when it does not. After a commit it always does.
slot_prepare() {
	if [ "$SL_C" = "$1" ] && [ "$SL_VAL" = "$2" ]; then
		return 0
	fi
	slots_load "$1"
	[ "$SL_VAL" != "$2" ] || return 0
	slot_write "$2"
}

# read_first FILE: RL := its first line, when complete.
read_first() {
	RL=
	[ -f "$1" ] || return 1
	IFS= read -r RL <"$1"
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
# CE := the image epoch), corrupt (ER says why), wiping (an interrupted wipe).
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

# --- nothing to do? (builtins only) --------------------------------------------------------------
# idle_boot: succeeds when a boot (of COMPONENT, or of all) has provably nothing to do and
# nothing to tidy: every component at the image's epoch, no failure, marker, leftover or
# incomplete record. Reads the manifest with builtins and verifies nothing: running nothing
# needs no proof, and anything unexpected takes the full path, which proves the bundle.
idle_boot() {
	if idle_check; then
		set +f
		return 0
	fi
	set +f
	return 1
}

# The manifest is read line by line, and the first thing pending ends the check: a boot
# that has work reads little of it here (the full path reads it once more, whole, with one
# process: `read` costs a system call per byte).
idle_check() {
	{ [ -f "$S/manifest.tsv" ] && [ ! -L "$S/manifest.tsv" ]; } || return 1
	# A list of chains left by a cut: records to rewrite.
	[ ! -s "$ST/applying" ] || return 1
	for ib_f in "$ST"/failed/* "$ST"/preflash/* "$ST"/wiping/* "$ST"/epoch/*.tmp \
		"$ST"/epoch.prev/*.tmp "$ST"/applied/*.tmp; do
		exists "$ib_f" && return 1
	done
	ib_at=' ' ib_scripts='' ib_found=''
	set -f
	while IFS= read -r ib_l || [ -n "$ib_l" ]; do
		IFS=$TAB
		# shellcheck disable=SC2086 # tab-separated fields
		set -- $ib_l
		IFS=$DEFAULT_IFS
		case ${1:-} in
		release) IDLE_RELEASE=${2:-} ;;
		component)
			[ $# -eq 6 ] || return 1
			[ -z "$HAVE_COMPONENT" ] || [ "$2" = "$COMPONENT" ] || continue
			ib_found=1
			C_NAME=$2 C_EPOCH=$3 C_BASE=$4
			paths_of "$6"
			set -f
			current_epoch
			case $CK in record | baseline) ;; *) return 1 ;; esac
			# A torn record is made whole by the full path.
			[ -z "$ET" ] || return 1
			[ "$CE" = "$C_EPOCH" ] || return 1
			ib_at="$ib_at$2:$3 "
			;;
		script)
			[ $# -eq 8 ] || return 1
			ib_scripts="$ib_scripts$3:$5:$7 "
			;;
		esac
	done <"$S/manifest.tsv"
	set +f
	[ -n "$ib_found" ] || return 1
	# The record a power cut can leave incomplete is that of the last script of a
	# component, the one that leads to its epoch (earlier ones were flushed by later syncs).
	for ib_s in $ib_scripts; do
		ib_id=${ib_s%%:*}
		case $ib_at in *" ${ib_s#*:} "*) ;; *) continue ;; esac
		[ ! -e "$ST/applied/$ib_id" ] || applied_whole "$ST/applied/$ib_id" || return 1
	done
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

# Opened once, only by runs that write: a boot with nothing to do writes nothing. Its size
# is read once here and counted from then on, so it is never read again per script.
journal_open() {
	journal_try || die 1 "cannot write $J (read-only or full state directory?): nothing run"
}

# journal_try [journal-only]: journal_open, failing instead of ending the run. With an
# argument only the state dir itself is made, not its record folders (a refusal records
# nothing but its journal lines).
journal_try() {
	[ -z "$JOPEN" ] || return 0
	if [ $# -gt 0 ]; then
		[ -d "$ST" ] || mkdir -p "$ST" || return 1
	else
		ensure_state || return 1
	fi
	JSIZE=0
	if [ -f "$J" ]; then
		jo_size=$(wc -c <"$J") || jo_size=0
		# shellcheck disable=SC2086 # split on purpose: blank-free fields
		set -- $jo_size
		JSIZE=${1:-0}
		case $JSIZE in '' | *[!0-9]*) JSIZE=0 ;; esac
	fi
	[ "$JSIZE" -le "$JOURNAL_MAX" ] || journal_rotate
	# Probe with a regular builtin: a failed redirection on `exec` would end the shell
	# without our message.
	printf '' >>"$J" || return 1
	exec 3>>"$J"
	JOPEN=1
	jlog "start: $CMD${HAVE_COMPONENT:+ --component $COMPONENT}${HAVE_TARGET:+ --target $TARGET} (release ${M_RELEASE:-none})"
}

journal_rotate() {
	journal_flush
	if mv -f "$J" "$J.1"; then
		JSIZE=0
		[ -z "$JOPEN" ] || exec 3>>"$J"
	else
		printf '%s: warning: cannot rotate %s\n' "$PROG" "$J" >&2
	fi
}

# journal_output ID: the last script's output (in the run's private folder) into the
# journal, at most OUTPUT_MAX bytes of its end, rotating first when it would pass the cap.
# Costs processes only when the script printed something.
journal_output() {
	[ -s "$WORK/out" ] || return 0
	jo_id=$1
	jo_n=$(wc -c <"$WORK/out") || jo_n=0
	# shellcheck disable=SC2086 # split on purpose: blank-free fields
	set -- $jo_n
	jo_n=${1:-0}
	case $jo_n in '' | *[!0-9]*) jo_n=$OUTPUT_MAX ;; esac
	jo_keep=$jo_n
	[ "$jo_keep" -le "$OUTPUT_MAX" ] || jo_keep=$OUTPUT_MAX
	[ $((JSIZE + jo_keep + 200)) -le "$JOURNAL_MAX" ] || journal_rotate
	jo_file=$WORK/out
	if [ "$jo_n" -gt "$OUTPUT_MAX" ]; then
		jlog "$jo_id: output: $jo_n bytes, the last $OUTPUT_MAX kept"
		tail -c "$OUTPUT_MAX" "$WORK/out" >"$WORK/out.tail" 2>/dev/null || : >"$WORK/out.tail"
		jo_file=$WORK/out.tail
	fi
	# Line by line, so the journal's lines stay lines when the output ends without a newline.
	# In order with the buffered lines: flushed first, written directly (it is rare).
	journal_flush
	jo_l=
	while IFS= read -r jo_l; do
		printf '%s\n' "$jo_l" >&3 2>/dev/null || true
	done <"$jo_file"
	[ -z "$jo_l" ] || printf '%s\n' "$jo_l" >&3 2>/dev/null || true
	JSIZE=$((JSIZE + jo_keep + 1))
}

# --- lock --------------------------------------------------------------------------------------
# The lock folder L lives under /run (tmpfs), so a power cut clears it. Holding the lock is
# owning the newest generation: the symlink L/gen.N -> work.<pid>, created by `ln -s -n`,
# which is atomic and fails when it exists (without -n, ln would follow an existing link to
# a folder and succeed inside it), so exactly one runner wins each generation. The
# owner's folder work.<pid> (its private copies, FIFOs, script output) is made first, with
# "<pid> <start time>" in work.<pid>/owner, so the owner is known from the instant the
# generation exists. L/done.N says N was released. A generation whose owner is gone (or
# whose pid now belongs to a process started at another time) is superseded by N+1: there
# is no takeover marker that a killed runner could leave behind.
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
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	if proc_start "$1"; then
		[ "$PS_STATE" != Z ] || return 1
		[ -z "$2" ] || [ "$2" = "$PS_START" ] || return 1
		return 0
	fi
	# /proc is mounted and has no such process: it is gone.
	[ ! -d /proc/self ] || return 1
	kill -0 "$1" 2>/dev/null
}

WORK=
GEN=
PREV_GEN=
PREV_OWNER=
lock_take() {
	work_open
	proc_start $$ || PS_START=
	printf '%s %s\n' "$$" "$PS_START" >"$WORK/owner" || die 1 "cannot write $WORK/owner"
	lt_waited=0 lt_lost=0
	set +f
	while :; do
		lt_top=0
		for lt_g in "$L"/gen.*; do
			lt_n=${lt_g##*/gen.}
			isint "$lt_n" || continue
			[ "$lt_n" -le "$lt_top" ] || lt_top=$lt_n
		done
		lt_free=1 LOWNER=
		if [ "$lt_top" -gt 0 ] && [ ! -e "$L/done.$lt_top" ]; then
			if read_first "$L/gen.$lt_top/owner"; then
				split_words "$RL"
				LOWNER=$W1
				pid_alive "$W1" "$W2" && lt_free=
			fi
		fi
		if [ -n "$lt_free" ]; then
			if ln -s -n "work.$$" "$L/gen.$((lt_top + 1))" 2>/dev/null; then
				if [ "$lt_top" -gt 0 ] && [ ! -e "$L/done.$lt_top" ]; then
					say "taking over the lock $L (generation $lt_top) left by pid ${LOWNER:-unknown}, which is gone"
				fi
				GEN=$((lt_top + 1))
				[ "$lt_top" -eq 0 ] || PREV_GEN=$lt_top PREV_OWNER=$LOWNER
				return 0
			fi
			# Another runner won that generation: look again (a bounded number of times: a
			# generation that exists must show up in the next look).
			lt_lost=$((lt_lost + 1))
			[ "$lt_lost" -lt 1000 ] || die 1 "cannot take the lock $L (gen.$((lt_top + 1)) exists but is not seen)"
			continue
		fi
		if [ "$lt_waited" -ge "$LOCK_TIMEOUT" ]; then
			die 1 "another runner (pid ${LOWNER:-unknown}) holds $L; gave up after ${LOCK_TIMEOUT}s"
		fi
		sleep 1 || die 1 "sleep failed while waiting for $L"
		lt_waited=$((lt_waited + 1))
	done
}

# Release: done.N first (a builtin), so a waiter never needs our folder, then one `rm` of
# our folder and of the generation we superseded.
lock_release() {
	[ -n "$GEN" ] || return 0
	printf '' >"$L/done.$GEN" 2>/dev/null || true
	set -- "$WORK"
	if [ -n "$PREV_GEN" ]; then
		set -- "$@" "$L/gen.$PREV_GEN" "$L/done.$PREV_GEN"
		[ -z "$PREV_OWNER" ] || set -- "$@" "$L/work.$PREV_OWNER"
	fi
	# Folders of runners killed before they won a generation (only those that say whose
	# they are: a folder without its owner file may be a runner that is starting now).
	for lr_w in "$L"/work.*; do
		[ "$lr_w" != "$WORK" ] || continue
		read_first "$lr_w/owner" || continue
		split_words "$RL"
		pid_alive "$W1" "$W2" || set -- "$@" "$lr_w"
	done
	GEN=
	rm -rf -- "$@" 2>/dev/null || printf '%s: cannot clean %s\n' "$PROG" "$L" >&2
}

# --- scripts, each bounded in time ---------------------------------------------------------------
# The executor (see the top of this file) runs the scripts in a session of its own. The
# watchdog, a subshell started once per run, sleeps until the running script's deadline
# (written to WORK/deadline as "SEQ DUE", in /proc/uptime seconds) and, if that script is
# still the one running then, kills the executor's process group and answers "SEQ timeout"
# in its place. All scripts share one timeout, so the deadline it sleeps toward is never
# later than the one of a script started after it looked.
EXEC_PID=
WATCH_PID=
SEQ=0
executor_start() {
	command -v setsid >/dev/null 2>&1 || die 1 "setsid is needed to bound scripts in time and was not found: nothing run"
	# New FIFOs for each executor: a killed one may leave a command unread.
	if exists "$WORK/cmd"; then
		rm -f "$WORK/cmd" "$WORK/res" "$WORK/killed" || die 1 "cannot remove the FIFOs in $WORK"
	fi
	mkfifo "$WORK/cmd" "$WORK/res" || die 1 "cannot create the FIFOs in $WORK"
	# Opened read-write: opening never blocks, and the runner's own read end means a dead
	# executor leaves its answer to the watchdog instead of an end of file.
	exec 4<>"$WORK/cmd" 5<>"$WORK/res"
	setsid sh "$SELF" __executor "$R" "$WORK" "$RUN_DIR" 3>&- &
	EXEC_PID=$!
	[ -n "$WATCH_PID" ] || watchdog_start
}

watchdog_start() {
	wd_runner=$$
	(
		# "$!" too: a TERM between starting a sleep and noting its pid would leave that
		# sleep behind (before the first one, "$!" is the executor, being stopped as well).
		trap 'kill "$wd_sleep" "$!" 2>/dev/null; exit 0' TERM
		wd_sleep=
		wd_seen=
		while kill -0 "$wd_runner" 2>/dev/null; do
			wd_wait=$SCRIPT_TIMEOUT
			if read_first "$WORK/deadline" && [ -n "$RL" ]; then
				split_words "$RL"
				uptime_now
				if [ "$UPT" -ge "$W2" ]; then
					if [ "$W1" != "$wd_seen" ]; then
						wd_seen=$W1
						printf '%s\n' "$W1" >"$WORK/killed"
						kill -KILL -"$W3" 2>/dev/null || true
						printf '%s timeout\n' "$W1" >"$WORK/res"
					fi
				else
					wd_wait=$((W2 - UPT))
				fi
			fi
			sleep "$wd_wait" >/dev/null 2>&1 &
			wd_sleep=$!
			wait "$wd_sleep" || true
		done
	) 3>&- 4>&- 5>&- </dev/null &
	WATCH_PID=$!
}

workers_stop() {
	[ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null || true
	[ -z "$EXEC_PID" ] || kill -KILL -"$EXEC_PID" 2>/dev/null || true
	WATCH_PID='' EXEC_PID=''
}

# run_script ID PHASE FROM TO FILE: RS := the script's exit status, or "timeout".
run_script() {
	if [ -z "$EXEC_PID" ] || [ -e "$WORK/killed" ]; then executor_start; fi
	SEQ=$((SEQ + 1))
	# UPT: read by the caller's `now`, just before.
	printf '%s %s %s\n' "$SEQ" "$((UPT + SCRIPT_TIMEOUT))" "$EXEC_PID" >"$WORK/deadline" ||
		storage_fail "cannot write $WORK/deadline"
	printf '%s %s %s %s %s %s\n' "$SEQ" "$2" "$C_NAME" "$3" "$4" "$5" >&4
	RS=
	while IFS=' ' read -r rs_seq rs_rc <&5; do
		[ "$rs_seq" = "$SEQ" ] || continue
		RS=$rs_rc
		break
	done
	[ -n "$RS" ] || RS=timeout
	# Between scripts there is nothing to kill.
	: >"$WORK/deadline"
	# A killed executor (by this deadline, or right after the script ended): the next
	# script gets a new one (run_script checks the marker too).
	[ "$RS" != timeout ] || EXEC_PID=
}

# --- commit protocol (see the header) --------------------------------------------------------
storage_fail() {
	die 1 "storage error: $*"
}

# undo_records C ID PREVIOUS: after a failed record write or barrier, leave no record that
# could claim more than is durable (applied/<id> is not written yet). PREVIOUS is the epoch before ("" when there was none).
undo_records() {
	if [ -n "$3" ]; then
		printf '%s\n' "$3" >"$ST/epoch/$1" 2>/dev/null || true
	else
		rm -f "$ST/epoch/$1" || true
	fi
}

# applied_text ID SHA C FROM TO PHASE TIME [RELEASE]: the content of applied/<id>.
applied_text() {
	AT="id=$1${NL}sha256=$2${NL}component=$3${NL}from=$4${NL}to=$5${NL}time=$7${NL}release=${8:-$M_RELEASE}${NL}phase=$6$NL"
}

# --- applied records: written once per chain ------------------------------------------------
# Creating applied/<id> between the barriers would cost every script a new inode, a
# directory entry and a data block in its sync. So a chain's records are written when the
# chain ends (flushed by the next barrier or the run's final sync), and the chain is
# announced first in $ST/applying: "run TIME RELEASE", then per chain "chain C PHASE" and
# one "ID SHA256 FROM TO" line per script, written before its first script and flushed by
# that script's barrier 1, so it is durable before any epoch of the chain moves. A cut
# before the records are durable leaves the list: the next run that writes (a boot with a
# list is never idle) rewrites from it the records the cut lost, judging by the epoch
# records which scripts ran: a chain never repeats an epoch, so its scripts up to the one
# that leads to the component's epoch ran, and no other (see applying_repair). So a
# record is never early, and never lost while its list is whole. A wipe or an epoch
# recorded without a script appends "reset C" first: the chains of C before it say nothing
# about its epoch any more (their records were made durable by the sync before the reset).
AP_DONE='' AP_CHUNK='' AP_K=0
AP_LISTED=''
AP_KEEP=''
# applying_announce PHASE: the loaded component's CHAIN, into the list.
applying_announce() {
	aa_text="chain $C_NAME $1$NL" aa_chunk='' aa_k=0
	IFS=$NL
	set -f
	for aa_l in $CHAIN; do
		IFS=$DEFAULT_IFS
		split_words "$aa_l"
		[ "$W1" = S ] || continue
		aa_chunk="$aa_chunk$W3 $W7 $W4 $W5$NL" aa_k=$((aa_k + 1))
		[ "$aa_k" -lt "$CHUNK" ] || aa_text=$aa_text$aa_chunk aa_chunk='' aa_k=0
	done
	IFS=$DEFAULT_IFS
	set +f
	aa_text=$aa_text$aa_chunk
	if [ -z "$AP_LISTED" ]; then
		now
		printf 'run %s %s\n%s' "$NOW" "$M_RELEASE" "$aa_text" >"$ST/applying" ||
			storage_fail "cannot write $ST/applying (read-only or full?): nothing run"
		AP_LISTED=1
	else
		printf '%s' "$aa_text" >>"$ST/applying" ||
			storage_fail "cannot write $ST/applying (read-only or full?): nothing run"
	fi
}

# applying_reset C: C's epoch is about to change without a script of a listed chain.
applying_reset() {
	[ -n "$AP_LISTED" ] || return 0
	printf 'reset %s\n' "$1" >>"$ST/applying" || storage_fail "cannot write $ST/applying"
}

# applied_flush: the records of the scripts committed since the last flush. Without the
# list truncated, a record that cannot be written now is rewritten by the next run.
applied_flush() {
	AP_DONE=$AP_DONE$AP_CHUNK AP_CHUNK='' AP_K=0
	[ -n "$AP_DONE" ] || return 0
	af_all=$AP_DONE
	AP_DONE=''
	IFS=$NL
	set -f
	for af_l in $af_all; do
		IFS=$DEFAULT_IFS
		split_words "$af_l"
		applied_text "$W1" "$W2" "$W3" "$W4" "$W5" "$W6" "$W7"
		if ! printf '%s' "$AT" >"$ST/applied/$W1" 2>&3; then
			# No partial record: the list says it all (a rare path: a process is fine).
			rm -f "$ST/applied/$W1" 2>&3 || true
			say "warning: cannot write $ST/applied/$W1 (full?): the next run writes it from $ST/applying"
			AP_KEEP=1
		fi
		IFS=$NL
		set -f
	done
	IFS=$DEFAULT_IFS
	set +f
}

# commit C ID SHA FROM TO PHASE PREVIOUS MODE: steps 2-4, after the script succeeded
# (MODE: see record_write).
# ran_summary: RAN_TEXT := what this run ran, for its one summary line ("2 scripts run
# (users network)").
RAN_N=0 RAN_COMPS=''
ran_summary() {
	case $RAN_N in
	0) RAN_TEXT='no script run' ;;
	1) RAN_TEXT="1 script run (${RAN_COMPS# })" ;;
	*) RAN_TEXT="$RAN_N scripts run (${RAN_COMPS# })" ;;
	esac
}

commit() {
	RAN_N=$((RAN_N + 1))
	case " $RAN_COMPS " in *" $1 "*) ;; *) RAN_COMPS="$RAN_COMPS $1" ;; esac
	sync || storage_fail "sync failed after $2: not recorded; it runs again next time"
	record_write "$1" "$5" "$8"
	if [ -n "$RW" ]; then
		undo_records "$1" "$2" "$7"
		case $RW in
		sync) storage_fail "sync of the records of $2 failed: not recorded; it runs again next time" ;;
		*) storage_fail "cannot write $RW (read-only or full?): $2 not recorded; it runs again next time" ;;
		esac
	fi
	# Its applied/<id> is written when the chain ends (see applying_announce).
	now
	AP_CHUNK="$AP_CHUNK$2 $3 $1 $4 $5 $6 $NOW$NL" AP_K=$((AP_K + 1))
	[ "$AP_K" -lt "$CHUNK" ] || AP_DONE=$AP_DONE$AP_CHUNK AP_CHUNK='' AP_K=0
}

# record_write C VALUE [inplace]: steps 3-4. RW := "" when all is durable, else the file
# that could not be written, or "sync".
# - inplace (the whole record "PREV\n" and VALUE of the same length): epoch/<c> is
#   overwritten in place, then barrier 2 over it alone. An overwrite that keeps a file's
#   size and lies in one sector is atomic on the filesystems a device keeps its data on
#   (ext4, ubifs, jffs2, f2fs, btrfs; what the power-cut stages replay): the record holds
#   PREV or VALUE, never a torn line, so the companion is not needed. It is also the
#   cheapest write there is: no truncation (which costs ext4 a block freed, a block
#   allocated and an early writeback), no second file, one flush less. The companion is
#   marked "inplace" by the first such write after it held a value (see above).
# - otherwise (a new record, one that changes length, or one a cut tore): the next slot
#   and epoch/<c> := VALUE beside it, then barrier 2 over both (and over a folder that
#   got a new entry). The durable slot holds the current value (slot_prepare, before the
#   script), so a cut that tears the record leaves a whole companion to recover from.
record_write() {
	RW='' rw_dirs=''
	if [ "${3:-}" = inplace ]; then
		# The first in-place write after a companion write also marks the companion
		# "inplace" (once, not per script): from then on it describes no value, and a
		# record found torn is reported, never recovered to an older epoch.
		[ "$SL_C" = "$1" ] || slots_load "$1"
		rw_slot=''
		if [ "$SL_VAL" != inplace ]; then
			if ! slot_write inplace; then
				RW=$SL_NEXT SL_C=''
				return 0
			fi
			rw_slot=$SW_FILE
			[ -z "$SW_NEW" ] || rw_dirs=" $ST/epoch.prev"
		fi
		if ! printf '%s\n' "$2" 1<>"$ST/epoch/$1"; then
			RW=$ST/epoch/$1 SL_C=''
			return 0
		fi
		set -f
		# shellcheck disable=SC2086 # paths without blanks (checked names)
		sync -- $rw_slot "$ST/epoch/$1" $rw_dirs 2>&3 || RW=sync
		set +f
		[ -z "$RW" ] || SL_C=''
		return 0
	fi
	exists "$ST/epoch/$1" || rw_dirs=" $ST/epoch"
	[ "$SL_C" = "$1" ] || slots_load "$1"
	# The slot first, and first in the sync: written and fsynced in this order the two
	# files cost 4 device flushes per script on ext4 instead of 6 (counted on a loop
	# device); the order changes nothing for a crash, which may leave either one torn.
	if ! slot_write "$2"; then
		RW=$SL_NEXT SL_C=''
		return 0
	fi
	if ! printf '%s\n' "$2" >"$ST/epoch/$1"; then
		RW=$ST/epoch/$1
		return 0
	fi
	[ -z "$SW_NEW" ] || rw_dirs="$rw_dirs $ST/epoch.prev"
	set -f
	# shellcheck disable=SC2086 # folder names without blanks (checked paths)
	sync -- "$SW_FILE" "$ST/epoch/$1" $rw_dirs 2>&3 || RW=sync
	set +f
	[ -z "$RW" ] || SL_C=''
}

# record_epoch C VALUE: an epoch record not tied to a script (fresh data, after a wipe, a
# torn record rewritten).
record_epoch() {
	applying_reset "$1"
	epoch_state "$1"
	if [ "$EK" = value ]; then re_prev=$EV; else re_prev=none; fi
	slot_prepare "$1" "$re_prev" || storage_fail "cannot write $ST/epoch.prev/$1"
	sync || storage_fail "sync failed before recording the epoch of $1"
	record_write "$1" "$2"
	case $RW in
	'') ;;
	sync) storage_fail "sync of $ST/epoch/$1 failed" ;;
	*) storage_fail "cannot write $RW (read-only or full?)" ;;
	esac
}

# The last applied/<id>, failure records and journal lines: durable before the unit ends.
# Then the list of chains has nothing left to repair (a cut before its truncation is
# durable costs the next boot a repair that finds every record whole).
final_sync() {
	applied_flush
	sync || storage_fail "the final sync failed"
	if [ -n "$AP_LISTED" ] && [ -z "$AP_KEEP" ]; then
		: >"$ST/applying" 2>/dev/null || true
		AP_LISTED=''
	fi
}

# applied_whole FILE: the record has every field, each line complete.
applied_whole() {
	aw_keys=
	aw_last=
	{
		while IFS= read -r aw_l; do
			case $aw_l in
			id=?* | sha256=?* | component=?* | from=?* | to=?* | time=?* | release=?* | phase=?*)
				aw_keys="$aw_keys ${aw_l%%=*}"
				;;
			esac
		done
		aw_last=$aw_l
	} <"$1" || return 1
	[ -z "$aw_last" ] || return 1
	for aw_k in id sha256 component from to time release phase; do
		case "$aw_keys " in *" $aw_k "*) ;; *) return 1 ;; esac
	done
	return 0
}

# applying_repair: the records a cut kept from being written, from $ST/applying (see
# applying_announce). Only its whole lines count: a torn last line is a chain whose first
# barrier never completed, so none of its scripts committed. A record is written when it
# is missing, incomplete or older than the list (an earlier run of the same script); one
# the run wrote itself is kept. Then a sync, before anything can replace the list.
applying_repair() {
	[ -s "$ST/applying" ] || return 0
	journal_open
	ap_time='' ap_rel='' ap_n=0 ap_cur=0 ap_wrote=0
	{
		IFS=' ' read -r ap_w ap_time ap_rel ap_x || ap_w=''
		# Times are seconds since 1970: 10 digits and more, not an epoch (isint).
		case $ap_time in '' | *[!0-9]*) ap_w='' ;; esac
		if [ "$ap_w" != run ] || [ ${#ap_time} -gt 12 ] || [ -z "$ap_rel" ] || [ -n "$ap_x" ]; then
			ap_time=''
		fi
		# Pass 1: the chains, numbered; AC_<n> "C PHASE", AL_<n> their script lines, and
		# the epoch each chain ended at: AE_<n>, the first epoch of the next chain of the
		# same component, "reset" when a reset came first, "" for the last one.
		while [ -n "$ap_time" ] && IFS=' ' read -r ap_a ap_b ap_c ap_d ap_x; do
			case $ap_a in
			chain)
				valid_name "$ap_b" || break
				case $ap_c in boot | pre-flash) ;; *) break ;; esac
				ap_n=$((ap_n + 1))
				var_set "AC_$ap_n" "$ap_b $ap_c"
				var_set "AL_$ap_n" ''
				var_set "AE_$ap_n" ''
				var_set "AF_$ap_n" ''
				ap_cur=$ap_n
				;;
			reset)
				valid_name "$ap_b" || break
				ap_i=$ap_n
				while [ "$ap_i" -gt 0 ]; do
					var_get "AC_$ap_i"
					if [ "${VG%% *}" = "$ap_b" ]; then
						var_get "AE_$ap_i"
						[ -n "$VG" ] || var_set "AE_$ap_i" reset
						break
					fi
					ap_i=$((ap_i - 1))
				done
				;;
			*)
				if [ "$ap_cur" -eq 0 ] || [ -n "$ap_x" ] || ! sha_ok "$ap_b" || ! isint "$ap_c" ||
					! isint "$ap_d"; then
					break
				fi
				case $ap_a in [a-z0-9]*) ;; *) break ;; esac
				case $ap_a in *[!a-z0-9._-]*) break ;; esac
				var_get "AL_$ap_cur"
				if [ -z "$VG" ]; then
					var_set "AF_$ap_cur" "$ap_c"
					# The chain before, of the same component, ended where this one starts.
					var_get "AC_$ap_cur"
					ap_comp=${VG%% *}
					ap_i=$((ap_cur - 1))
					while [ "$ap_i" -gt 0 ]; do
						var_get "AC_$ap_i"
						if [ "${VG%% *}" = "$ap_comp" ]; then
							var_get "AE_$ap_i"
							[ -n "$VG" ] || var_set "AE_$ap_i" "$ap_c"
							break
						fi
						ap_i=$((ap_i - 1))
					done
					var_get "AL_$ap_cur"
				fi
				var_set "AL_$ap_cur" "$VG$ap_a $ap_b $ap_c $ap_d$NL"
				;;
			esac
		done
	} <"$ST/applying"
	# Pass 2: per chain, its scripts up to the one that leads to where it ended.
	ap_i=0
	while [ "$ap_i" -lt "$ap_n" ]; do
		ap_i=$((ap_i + 1))
		var_get "AC_$ap_i"
		ap_comp=${VG%% *} ap_phase=${VG#* }
		var_get "AE_$ap_i"
		ap_end=$VG
		[ "$ap_end" != reset ] || continue
		if [ -z "$ap_end" ]; then
			# The last chain of its component: where its epoch record says.
			[ ! -f "$ST/wiping/$ap_comp" ] || continue
			epoch_state "$ap_comp"
			[ "$EK" = value ] || continue
			ap_end=$EV
		fi
		var_get "AL_$ap_i"
		ap_lines=$VG
		# Does the chain reach ap_end? (Otherwise nothing can be said: nothing is written.)
		case "$NL$ap_lines" in *" $ap_end$NL"*) ;; *) continue ;; esac
		IFS=$NL
		set -f
		for ap_l in $ap_lines; do
			IFS=$DEFAULT_IFS
			split_words "$ap_l"
			ap_f=$ST/applied/$W1
			ap_old=''
			if [ -f "$ap_f" ] && applied_whole "$ap_f"; then
				while IFS= read -r ap_r; do
					case $ap_r in time=*) ap_old=${ap_r#time=} ;; esac
				done <"$ap_f"
				case $ap_old in '' | *[!0-9]*) ap_old=0 ;; esac
				[ ${#ap_old} -le 12 ] || ap_old=0
			fi
			if [ -z "$ap_old" ] || [ "$ap_old" -lt "$ap_time" ]; then
				applied_text "$W1" "$W2" "$ap_comp" "$W3" "$W4" "$ap_phase" "$ap_time" "$ap_rel"
				if printf '%srepaired=1\n' "$AT" >"$ap_f"; then
					jlog "$W1: applied record lost to a power cut: rewritten from $ST/applying"
					ap_wrote=1
				else
					say "warning: cannot write $ap_f"
				fi
			fi
			IFS=$NL
			set -f
			[ "$W4" != "$ap_end" ] || break
		done
		IFS=$DEFAULT_IFS
		set +f
	done
	if [ "$ap_wrote" = 1 ]; then
		sync || storage_fail "sync failed after rewriting the applied records"
	fi
	: >"$ST/applying" || storage_fail "cannot empty $ST/applying"
}

# applied_repair: an incomplete applied/<id> (a power cut before its barrier) is rewritten
# from the manifest, which knows everything but when it ran; `repaired=1` says so.
applied_repair() {
	for ar_f in "$ST"/applied/*; do
		[ -f "$ar_f" ] || continue
		applied_whole "$ar_f" && continue
		ar_id=${ar_f##*/}
		journal_open
		ar_all=$NL$M_SCRIPTS
		case $ar_all in
		*"$NL$ar_id "*)
			ar_rest=${ar_all#*"$NL$ar_id "}
			split_words "$ar_id ${ar_rest%%"$NL"*}"
			now
			ar_phase=boot
			if read_first "$ST/epoch/$W3" && [ "$RL" != "$W5" ]; then ar_phase=unknown; fi
			applied_text "$W1" "$W2" "$W3" "$W4" "$W5" "$ar_phase" "$NOW"
			if printf '%srepaired=1\n' "$AT" >"$ar_f"; then
				jlog "$ar_id: applied record was incomplete (power cut): rewritten from the manifest"
			else
				say "warning: cannot repair $ar_f"
			fi
			;;
		*)
			# Not this image's: nothing can say what it held. An incomplete record claims
			# nothing the epoch record does not, so it goes.
			rm -f "$ar_f" || say "warning: cannot remove the incomplete record $ar_f"
			jlog "$ar_id: incomplete applied record of a script this image does not ship: removed"
			;;
		esac
	done
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

# environment_sound ID: succeeds only when the runner can tell that the persistent layer
# and the state dir have room and the failed script's output names no storage error. A
# wipe is decided only then: a full disk or a read-only layer says nothing about the data.
environment_sound() {
	if [ -s "$WORK/out" ] && grep -q -i -e 'no space left' -e 'disk quota' -e 'read-only file system' \
		-e 'input/output error' -e 'too many open files' -e 'cannot allocate memory' "$WORK/out"; then
		ENV_WHY="its output reports a storage or system error"
		return 1
	fi
	for es_dir in "$U" "$ST"; do
		es_df=$(df -P -k "$es_dir" 2>/dev/null) || {
			ENV_WHY="cannot tell how full $es_dir is (df failed)"
			return 1
		}
		es_df=${es_df#*"$NL"}
		split_words "$es_df"
		if ! isint "$W2" || ! isint "$W4"; then
			ENV_WHY="cannot tell how full $es_dir is (df said: $es_df)"
			return 1
		fi
		# Full: under 256 KiB or under 2% free.
		if [ "$W4" -lt 256 ] || [ $((W4 * 50)) -lt "$W2" ]; then
			ENV_WHY="$es_dir is full (${W4} KiB free of ${W2} KiB)"
			return 1
		fi
	done
	ENV_WHY=
	return 0
}

# --- wipes -------------------------------------------------------------------------------------
# wipe C PATHS EPOCH: delete the paths from the persistent layer itself, never through a
# merged overlay view (that would leave whiteouts hiding the image's own files), and drop
# the epoch record; then record EPOCH unless it is "" (pre-flash: the target sees fresh data).
wipe() {
	wp_c=$1 wp_paths=$2 wp_epoch=$3
	journal_open
	applying_reset "$wp_c"
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
	SL_C=''
	rm -f "$ST/epoch/$wf_c" "$ST/epoch/$wf_c.tmp" "$ST/epoch.prev/$wf_c" "$ST/epoch.prev/$wf_c.b" ||
		storage_fail "cannot remove the epoch record of $wf_c"
	sync || storage_fail "sync failed while wiping $wf_c"
	if [ -n "$wf_epoch" ]; then
		# No record and no companion now: a torn write here is redone from the marker.
		printf '%s\n' "$wf_epoch" >"$ST/epoch/$wf_c" || storage_fail "cannot write $ST/epoch/$wf_c"
		sync || storage_fail "sync failed while wiping $wf_c"
	fi
	rm -f "$ST/wiping/$wf_c" || storage_fail "cannot remove $ST/wiping/$wf_c"
	sync || storage_fail "sync failed while wiping $wf_c"
	jlog "$wf_c: wiped (${wf_paths:-no paths})${wf_epoch:+, epoch $wf_epoch recorded}"
}

# Start of every writing run: leftovers of interrupted writes, interrupted wipes, records
# torn by a power cut.
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
	# Before any interrupted wipe is finished: the list is read against the epochs the cut
	# left (a component being wiped is skipped there).
	applying_repair
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
	applied_repair
}

# --- chain choice ----------------------------------------------------------------------------------
# The planner's rule, in shell over the parsed manifests (P_SCRIPTS-style tables). For one
# component from its current epoch A to its target epoch B, a chain is a part run now
# (layer 0: in pre-flash mode, the running image's scripts) followed by a part run at the
# image's boot (layer 1: the image's scripts at boot; the target's in pre-flash mode).
# Preferred: fewest scripts, then fewest run now, then the smallest sequence of ids compared
# byte by byte (LC_ALL=C), as the planner's bestChain. A cost is BIG per script plus 1 per
# script run now, to B: layer 1 by a breadth-first search back from B, layer 0 by relaxing
# its (few) edges over that. The chain is then rebuilt from A, always taking the smallest id
# that keeps the optimal cost (an id is unique in a layer, and a script run now and one run
# at boot never tie). Shortest chains never repeat an epoch: cutting the loop is shorter.
# PLAN lines: "S c id from to file sha" (runs now), "L c id from to" (runs at the target's
# boot), then "E c" per component, or "N c" when there is no chain.
#
# The search's tables are shell variables named by numbers that manifest_parse has proven
# to be canonical integers (epochs) or that are counted here (edges), so every lookup is
# one expansion, whatever the number of scripts (a string searched with ${x#*pattern}
# costs dash quadratic time in its length): CE_<k> "from to id file sha layer" (edge k),
# CO_<epoch> the edges leaving an epoch, CI_<epoch> the boot-layer edges arriving there,
# D1_<epoch> and D0_<epoch> the costs to B from either layer (each name also carries the
# call's number, CP_NS). The names in an eval are built from proven integers only, and
# values are referred to ("\$v"), never spliced into the code: they are data, never code.
BIG=100000
# The id characters, in byte order: the rank of a character is its offset in this string.
ID_ALPHA='-.0123456789_abcdefghijklmnopqrstuvwxyz'

# var_get NAME: VG := the value of the variable NAME ("" when unset).
var_get() {
	eval "VG=\${$1:-}"
}

# var_set NAME VALUE
var_set() {
	eval "$1=\$2"
}

# id_lt A B: A sorts before B, byte by byte (ids are [a-z0-9._-] only).
id_lt() {
	il_a=$1 il_b=$2
	while [ -n "$il_b" ]; do
		[ -n "$il_a" ] || return 0
		il_x=${il_a%"${il_a#?}"} il_y=${il_b%"${il_b#?}"}
		if [ "$il_x" != "$il_y" ]; then
			il_px=${ID_ALPHA%%"$il_x"*} il_py=${ID_ALPHA%%"$il_y"*}
			[ ${#il_px} -lt ${#il_py} ]
			return
		fi
		il_a=${il_a#?} il_b=${il_b#?}
	done
	return 1
}

# chain_edges NAME TABLE LAYER: adds NAME's scripts of TABLE (P_SCRIPTS-style) as edges
# of LAYER. CP_K counts the edges, CP_EPOCHS lists the epochs they touch (with repeats),
# CP_E0 the layer-0 edges. One eval per edge: the names are built from proven integers
# (the table's epochs, the edge count) and every value is referred to, never spliced in.
chain_edges() {
	ce_name=$1 ce_table=$2 ce_layer=$3
	IFS=$NL
	set -f
	for ce_l in $ce_table; do
		IFS=$DEFAULT_IFS
		# shellcheck disable=SC2086 # split on purpose: "id sha component from to file"
		set -- $ce_l
		[ "$3" = "$ce_name" ] || continue
		CP_K=$((CP_K + 1))
		# shellcheck disable=SC2034 # read by the eval below
		ce_v="$4 $5 $1 $6 $2 $ce_layer"
		# A second script leaving an epoch: the chain is a choice (see chain_walk).
		eval "[ -z \"\${CO${CP_NS}_$4:-}\" ] || CP_FORK=1"
		if [ "$ce_layer" = 1 ]; then
			eval "CE${CP_NS}_$CP_K=\$ce_v CO${CP_NS}_$4=\"\${CO${CP_NS}_$4:-} \$CP_K\" CI${CP_NS}_$5=\"\${CI${CP_NS}_$5:-} \$CP_K\""
		else
			eval "CE${CP_NS}_$CP_K=\$ce_v CO${CP_NS}_$4=\"\${CO${CP_NS}_$4:-} \$CP_K\""
			CP_E0="$CP_E0 $CP_K"
		fi
		CP_EPOCHS="$CP_EPOCHS $4 $5"
	done
	IFS=$DEFAULT_IFS
	set +f
}

# chain_costs B: D1_<e> by a breadth-first search back from B over the boot layer, then,
# when there are layer-0 edges, D0_<e>: the same, or less through scripts run now (BIG + 1
# each), relaxed to a fixpoint. Without them D0 is D1: CP_P0 names the table to read.
chain_costs() {
	eval "D1${CP_NS}_$1=0"
	cc_front=$1 cc_d=0 cc_in='' cc_f=''
	while [ -n "$cc_front" ]; do
		cc_d=$((cc_d + BIG)) cc_next=''
		for cc_t in $cc_front; do
			eval "cc_in=\${CI${CP_NS}_$cc_t:-}"
			for cc_k in $cc_in; do
				eval "cc_f=\${CE${CP_NS}_$cc_k%% *}"
				eval "cc_seen=\${D1${CP_NS}_$cc_f:-}"
				[ -z "$cc_seen" ] || continue
				eval "D1${CP_NS}_$cc_f=\$cc_d"
				cc_next="$cc_next $cc_f"
			done
		done
		cc_front=$cc_next
	done
	if [ -z "$CP_E0" ]; then
		CP_P0=D1$CP_NS
		return 0
	fi
	CP_P0=D0$CP_NS
	for cc_e in $CP_EPOCHS; do
		eval "D0${CP_NS}_$cc_e=\${D1${CP_NS}_$cc_e:-}"
	done
	cc_changed=1 cc_it=0
	while [ -n "$cc_changed" ] && [ "$cc_it" -le "$CP_K" ]; do
		cc_changed='' cc_it=$((cc_it + 1))
		for cc_k in $CP_E0; do
			var_get "CE${CP_NS}_$cc_k"
			split_words "$VG"
			var_get "D0${CP_NS}_$W2"
			[ -n "$VG" ] || continue
			cc_v=$((VG + BIG + 1))
			var_get "D0${CP_NS}_$W1"
			[ -z "$VG" ] || [ "$cc_v" -lt "$VG" ] || continue
			var_set "D0${CP_NS}_$W1" "$cc_v"
			cc_changed=1
		done
	done
}

# chain_plan MODE NAME EPOCH: append NAME's chain from EPOCH to PLAN. Each call has tables
# of its own (CP_NS in their names), so nothing needs clearing for the next component.
CP_NS=0
chain_plan() {
	if [ "$1" = boot ]; then cp_tgt=$M_COMPS; else cp_tgt=$T_COMPS; fi
	case "$NL$cp_tgt" in *"$NL$2 "*) ;; *)
		PLAN="${PLAN}N $2$NL"
		return
		;;
	esac
	cp_b=${NL}$cp_tgt
	cp_b=${cp_b#*"$NL$2 "}
	cp_b=${cp_b%%" "*}
	CP_NS=$((CP_NS + 1)) CP_K=0 CP_EPOCHS=" $cp_b $3" CP_E0='' CP_FORK=''
	if [ "$1" = boot ]; then
		chain_edges "$2" "$M_SCRIPTS" 1
	else
		chain_edges "$2" "$M_SCRIPTS" 0
		chain_edges "$2" "$T_SCRIPTS" 1
	fi
	if [ "$1" = boot ] && [ -z "$CP_FORK" ]; then
		chain_follow "$2" "$3" "$cp_b"
		return 0
	fi
	chain_costs "$cp_b"
	chain_walk "$1" "$2" "$3"
}

# chain_follow NAME EPOCH B: a boot (one layer) where no epoch has two scripts leaving it (the
# common bundle: each component a line of migrations): from EPOCH there is one path, so
# it is the chain when it reaches B, and there is none when it stops or comes back to an
# epoch (found by counting: a path of more steps than there are scripts repeats one).
# The same answer as the search, without it.
chain_follow() {
	cf_name=$1 cf_e=$2 cf_b=$3 cf_steps=0 cf_chunk='' cf_lines='' cf_out=''
	set -f
	while [ "$cf_e" != "$cf_b" ]; do
		eval "cf_out=\${CO${CP_NS}_$cf_e:-}"
		cf_steps=$((cf_steps + 1))
		if [ -z "$cf_out" ] || [ "$cf_steps" -gt "$CP_K" ]; then
			set +f
			PLAN="$PLAN$cf_lines${cf_chunk}N $cf_name$NL"
			return 0
		fi
		# The edge's words: from to id file sha layer.
		eval "set -- \$CE${CP_NS}_${cf_out# }"
		cf_chunk="${cf_chunk}S $cf_name $3 $1 $2 $4 $5$NL"
		cf_e=$2
		case $((cf_steps % CHUNK)) in 0) cf_lines=$cf_lines$cf_chunk cf_chunk='' ;; esac
	done
	set +f
	PLAN="$PLAN$cf_lines${cf_chunk}E $cf_name$NL"
}

# chain_walk MODE NAME EPOCH: rebuild the chain from EPOCH, the smallest id first among
# the edges that keep the optimal cost.
chain_walk() {
	eval "cw_cost=\${${CP_P0}_$3:-}"
	if [ -z "$cw_cost" ]; then
		PLAN="${PLAN}N $2$NL"
		return
	fi
	cw_e=$3 cw_layer=0 cw_steps=0 cw_d1='' cw_out='' cw_edge='' cw_chunk='' cw_lines=''
	while [ "$cw_cost" -gt 0 ]; do
		cw_best='' cw_bid='' cw_bl=''
		eval "cw_d1=\${D1${CP_NS}_$cw_e:-} cw_out=\${CO${CP_NS}_$cw_e:-}"
		for cw_k in $cw_out; do
			eval "cw_edge=\$CE${CP_NS}_$cw_k"
			split_words "$cw_edge"
			# W1 from, W2 to, W3 id, W4 file, W5 sha, W6 layer
			if [ "$W6" = 0 ]; then
				# A script run now: only before any boot-layer script.
				[ "$cw_layer" = 0 ] || continue
				eval "VG=\${D0${CP_NS}_$W2:-}"
				{ [ -n "$VG" ] && [ $((VG + BIG + 1)) -eq "$cw_cost" ]; } || continue
			else
				# Switching to the boot layer only where that keeps the optimal cost.
				[ "$cw_d1" = "$cw_cost" ] || continue
				eval "VG=\${D1${CP_NS}_$W2:-}"
				{ [ -n "$VG" ] && [ $((VG + BIG)) -eq "$cw_cost" ]; } || continue
			fi
			if [ -z "$cw_best" ] || id_lt "$W3" "$cw_bid"; then
				cw_best="$W1 $W2 $W3 $W4 $W5" cw_bid=$W3 cw_bl=$W6
			fi
		done
		cw_steps=$((cw_steps + 1))
		if [ -z "$cw_best" ] || [ "$cw_steps" -gt "$CP_K" ]; then
			PLAN="$PLAN$cw_lines${cw_chunk}N $2$NL"
			return
		fi
		split_words "$cw_best"
		if [ "$1" = boot ] || [ "$cw_bl" = 0 ]; then
			cw_chunk="${cw_chunk}S $2 $W3 $W1 $W2 $W4 $W5$NL"
		else
			cw_chunk="${cw_chunk}L $2 $W3 $W1 $W2$NL"
		fi
		case $((cw_steps % CHUNK)) in 0) cw_lines=$cw_lines$cw_chunk cw_chunk='' ;; esac
		cw_e=$W2 cw_layer=$cw_bl
		if [ "$cw_bl" = 0 ]; then
			eval "cw_cost=\${D0${CP_NS}_$W2}"
		else
			eval "cw_cost=\${D1${CP_NS}_$W2}"
		fi
	done
	PLAN="$PLAN$cw_lines${cw_chunk}E $2$NL"
}

PLAN=
# plan MODE "c epoch c epoch ...": PLAN := the chains of those components (mode boot: the
# image's scripts, to the image's epochs; preflash: the running image's, then the target's
# T_SCRIPTS, to T_COMPS's epochs).
plan() {
	PLAN=
	set -f
	# shellcheck disable=SC2086 # split on purpose: blank-free fields
	set -- "$1" $2
	set +f
	pl_mode=$1
	shift
	while [ $# -ge 2 ]; do
		chain_plan "$pl_mode" "$1" "$2"
		shift 2
	done
}

# chain_of NAME: CHAIN := the plan lines of that component; CHAIN_OK := "" when it has none.
chain_of() {
	CHAIN='' CHAIN_OK=1 co_chunk='' co_k=0
	IFS=$NL
	set -f
	for co_l in $PLAN; do
		IFS=$DEFAULT_IFS
		split_words "$co_l"
		[ "$W2" = "$1" ] || continue
		case $W1 in
		N) CHAIN_OK='' ;;
		S | L)
			co_chunk="$co_chunk$co_l$NL" co_k=$((co_k + 1))
			[ "$co_k" -lt "$CHUNK" ] || CHAIN=$CHAIN$co_chunk co_chunk='' co_k=0
			;;
		esac
	done
	IFS=$DEFAULT_IFS
	set +f
	CHAIN=$CHAIN$co_chunk
}

# chain_ids S|L: CHAIN_IDS := the ids of CHAIN's lines of that kind (run now, or at the
# target's boot), each after a blank.
chain_ids() {
	CHAIN_IDS=
	IFS=$NL
	set -f
	for ci_l in $CHAIN; do
		IFS=$DEFAULT_IFS
		split_words "$ci_l"
		[ "$W1" != "$1" ] || CHAIN_IDS="$CHAIN_IDS $W3"
	done
	IFS=$DEFAULT_IFS
	set +f
}

# --- running a chain -------------------------------------------------------------------------------
# run_chain PHASE: run the "S" lines of CHAIN for the loaded component, whose data is at
# CE (CK says whether that came from a record), scripts from RUN_DIR. Returns 1 with
# FAILED_ID and FAIL_KIND (script | timeout) set when a script fails; storage problems end
# the run.
FAILED_ID=
FAIL_KIND=
run_chain() {
	rc_phase=$1
	FAILED_ID='' FAIL_KIND=''
	[ "$rc_phase" != pre-flash ] || preflash_mark "$C_NAME"
	applying_announce "$rc_phase"
	JBUFFER=1
	IFS=$NL
	set -f
	# shellcheck disable=SC2086 # split on purpose: one line each
	set -- $CHAIN
	IFS=$DEFAULT_IFS
	set +f
	# A record rewritten in place must be whole, exactly "CE\n" (not one a cut tore, which
	# epoch_state took from the companion): read again, it is cheap and this is the one
	# place that relies on it. After each commit it is.
	rch_whole=
	if [ "$CK" = record ]; then
		record_read "$ST/epoch/$C_NAME"
		[ "$EK" != value ] || [ "$EV" != "$CE" ] || rch_whole=1
	fi
	for rch_l in "$@"; do
		split_words "$rch_l"
		[ "$W1" = S ] || continue
		rch_id=$W3 rch_from=$W4 rch_to=$W5 rch_file=$W6 rch_sha=$W7
		if [ "$CK" = record ]; then rch_prev=$CE; else rch_prev=''; fi
		# The commit's record write (see record_write): in place when the whole record
		# keeps its length, else beside the companion, whose durable slot must then hold
		# the current value (flushed by this script's barrier 1).
		if [ -n "$rch_whole" ] && [ ${#rch_prev} -eq ${#rch_to} ]; then
			rch_mode=inplace
		else
			rch_mode=slot
			slot_prepare "$C_NAME" "${rch_prev:-none}" ||
				storage_fail "cannot write $ST/epoch.prev/$C_NAME (read-only or full?): nothing run"
		fi
		now
		jlog_at "run $rch_id ($C_NAME $rch_from->$rch_to, $rc_phase)"
		run_script "$rch_id" "$rc_phase" "$rch_from" "$rch_to" "$rch_file"
		journal_output "$rch_id"
		if [ "$RS" = 0 ]; then
			commit "$C_NAME" "$rch_id" "$rch_sha" "$rch_from" "$rch_to" "$rc_phase" "$rch_prev" "$rch_mode"
		else
			FAILED_ID=$rch_id
			if [ "$RS" = timeout ]; then
				FAIL_KIND=timeout
				jlog "FAILED $rch_id (killed after ${SCRIPT_TIMEOUT}s, its time limit)"
				rch_st="reason=timeout after ${SCRIPT_TIMEOUT}s"
			else
				FAIL_KIND=script
				jlog "FAILED $rch_id (exit $RS)"
				rch_st="status=$RS"
			fi
			# The script itself said no: its marker is not an interruption to finish.
			[ "$rc_phase" != pre-flash ] || rm -f "$ST/preflash/$C_NAME" || true
			JBUFFER=''
			journal_flush
			record_failure "$ST/failed/$rch_id" "id=$rch_id" "component=$C_NAME" "from=$rch_from" \
				"to=$rch_to" "phase=$rc_phase" "$rch_st"
			applied_flush
			return 1
		fi
		# A success clears an earlier failure of the same script.
		if [ -f "$ST/failed/$rch_id" ]; then
			rm -f "$ST/failed/$rch_id" || say "warning: cannot clear $ST/failed/$rch_id"
		fi
		CK=record CE=$rch_to rch_whole=1
	done
	JBUFFER=''
	journal_flush
	applied_flush
	return 0
}

# --- interrupted pre-flash ----------------------------------------------------------------------
# A pre-flash script converts data toward ANOTHER image's format. If the power is cut while
# it runs (or before its record is durable), the flash never happens and this same image
# boots again, with data part-way to the other format while its record still says an
# epoch of the chain: boot would see nothing to do, or the wrong thing. So each pre-flash
# chain is announced first by a durable marker, preflash/<c>: one "script=ID FROM TO FILE
# SHA256" line per script, then "end". Every run first finishes the script of an announced
# chain whose `from` is the component's recorded epoch: the image that boots is the one
# that ran it, so it ships it (checked against its manifest). One marker and one sync per
# component, not per script; markers are removed when the pre-flash has ended.

# preflash_mark C: the durable announcement of CHAIN's pre-flash scripts.
preflash_mark() {
	if [ ! -d "$ST/preflash" ]; then
		mkdir -p "$ST/preflash" || storage_fail "cannot create $ST/preflash (read-only or full?): nothing run"
		pm_new=1
	else
		pm_new=
	fi
	pm_text=
	IFS=$NL
	set -f
	for pm_l in $CHAIN; do
		IFS=$DEFAULT_IFS
		split_words "$pm_l"
		[ "$W1" = S ] && pm_text="${pm_text}script=$W3 $W4 $W5 $W6 $W7$NL"
	done
	IFS=$DEFAULT_IFS
	set +f
	printf '%send\n' "$pm_text" >"$ST/preflash/$1" ||
		storage_fail "cannot write $ST/preflash/$1 (read-only or full?): nothing run"
	if [ -n "$pm_new" ]; then
		sync -- "$ST/preflash/$1" "$ST/preflash" "$ST" 2>&3 || storage_fail "sync of $ST/preflash/$1 failed: nothing run"
	else
		sync -- "$ST/preflash/$1" "$ST/preflash" 2>&3 || storage_fail "sync of $ST/preflash/$1 failed: nothing run"
	fi
}

# preflash_find FILE EPOCH: FP_END := 1 when the marker is complete; FP_ID FP_FROM FP_TO
# FP_SHA := its script that starts at EPOCH (FP_ID "" when none does).
# FP_BAD := 1 for a complete marker with a line no runner writes: its chain is unknown.
preflash_find() {
	FP_END='' FP_ID='' FP_FROM='' FP_TO='' FP_SHA='' FP_BAD=''
	while IFS= read -r pf_l; do
		case $pf_l in
		script=*)
			split_words "${pf_l#script=}"
			case $W1 in '' | *[!a-z0-9._-]*) FP_BAD=1 ;; esac
			{ isint "$W2" && isint "$W3" && sha_ok "$W5" && [ "$NW" -eq 5 ]; } || FP_BAD=1
			if [ "$W2" = "$2" ] && [ -z "$FP_ID" ]; then
				FP_ID=$W1 FP_FROM=$W2 FP_TO=$W3 FP_SHA=$W5
			fi
			;;
		end) FP_END=1 ;;
		*) FP_BAD=1 ;;
		esac
	done <"$1"
	if [ -z "$FP_END" ]; then
		FP_ID='' FP_BAD=''
	elif [ -n "$FP_BAD" ]; then
		FP_ID=unknown
	fi
}

# preflash_shipped: FP_FILE := this image's file of the marker's script if it ships it as
# announced (same id, sha256 and epochs), else "".
preflash_shipped() {
	FP_FILE=
	ps_all=$NL$M_SCRIPTS
	case $ps_all in
	*"$NL$FP_ID $FP_SHA $C_NAME $FP_FROM $FP_TO "*)
		ps_rest=${ps_all#*"$NL$FP_ID $FP_SHA $C_NAME $FP_FROM $FP_TO "}
		FP_FILE=${ps_rest%%"$NL"*}
		;;
	esac
}

# finish_preflash MODE (boot | pre-flash): finish or drop every marker (image bundle loaded).
finish_preflash() {
	for fp_m in "$ST"/preflash/*; do
		[ -f "$fp_m" ] || continue
		journal_open
		fp_c=${fp_m##*/}
		FP_ID=
		if valid_name "$fp_c" && comp_find "$fp_c" "$M_COMPS"; then
			current_epoch
			case $CK in record | baseline) preflash_find "$fp_m" "$CE" ;; esac
		fi
		if [ -z "$FP_ID" ]; then
			# Torn (never synced, so its scripts never started), done, or of a component
			# this image does not have.
			rm -f "$fp_m" || storage_fail "cannot remove $fp_m"
			continue
		fi
		preflash_shipped
		if [ -n "$FP_BAD" ]; then
			fp_why="its pre-flash marker $fp_m is unreadable: the data may be part-way through a script nobody can name"
			FAILED_ID='' FAIL_KIND=data
		elif [ -z "$FP_FILE" ]; then
			fp_why="an interrupted pre-flash left $fp_c between epochs $FP_FROM and $FP_TO, and this image does not ship $FP_ID to finish it"
			FAILED_ID='' FAIL_KIND=data
		else
			say "$fp_c: finishing $FP_ID, interrupted before a flash that did not happen"
			CHAIN="S $fp_c $FP_ID $FP_FROM $FP_TO $FP_FILE $FP_SHA$NL"
			if run_chain pre-flash; then
				rm -f "$fp_m" || storage_fail "cannot remove $fp_m"
				continue
			fi
			fp_why="$FP_ID failed while finishing an interrupted pre-flash"
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

# --- failure policy ------------------------------------------------------------------------------
# component_failed REASON: apply the loaded component's policy (FAILED_ID, FAIL_KIND say
# what failed: a script, its timeout, or the data itself). Sets HALTED / ISOLATED. A wipe
# is the policy's answer to data a script could not convert, never to the environment:
# a timeout, a component without paths to wipe, or a layer that is full (or that the
# runner cannot measure) stop the run as `halt` does, whatever the policy.
HALTED=
ISOLATED=
component_failed() {
	cfd_reason=$1
	cfd_policy=$C_POLICY
	if [ "$FAIL_KIND" = script ] && ! environment_sound; then
		cfd_reason="$cfd_reason; $ENV_WHY"
		cfd_policy=halt
		say "$C_NAME: $cfd_reason: stopping (the environment, not the data, may be at fault)"
	elif [ "$cfd_policy" = wipe ]; then
		if [ -z "$C_PATHS" ]; then
			cfd_policy=halt cfd_reason="$cfd_reason; policy wipe, but the component has no paths to wipe"
		elif [ "$FAIL_KIND" = timeout ]; then
			cfd_policy=halt cfd_reason="$cfd_reason; a script past its time limit says nothing about the data: not wiping"
		elif ! environment_sound; then
			cfd_policy=halt cfd_reason="$cfd_reason; $ENV_WHY: not wiping"
		fi
	fi
	if [ -z "$FAILED_ID" ] && [ "$cfd_policy" != wipe ]; then
		record_failure "$ST/failed/@$C_NAME" "component=$C_NAME" "reason=$cfd_reason" \
			"epoch=${CE:-unknown}" "imageEpoch=$C_EPOCH"
	fi
	case $cfd_policy in
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

# --- boot ------------------------------------------------------------------------------------------
# image_load: the image's own bundle, proven with its own trust store (the keys its
# manifest lists), into M_*.
image_load() {
	bundle_load "$S" image self
	M_RELEASE=$P_RELEASE M_PLATFORM=$P_PLATFORM M_COMPS=$P_COMPS M_KEYS=$P_KEYS M_SCRIPTS=$P_SCRIPTS
}

# boot_component (after planning; the component loaded): bring it to the image's epoch.
boot_component() {
	current_epoch
	[ "$CK" != wiping ] || current_epoch
	if [ -n "$ET" ] && [ "$CK" = record ] && [ "$CE" = "$C_EPOCH" ]; then
		# A cut tore epoch/<c> once the last script's effects were durable: nothing runs,
		# so nothing would rewrite it. Made whole now, from its companion.
		journal_open
		jlog "$C_NAME: epoch record torn by a power cut: rewritten ($CE)"
		record_epoch "$C_NAME" "$CE"
	fi
	FAILED_ID='' FAIL_KIND=data
	case $CK in
	corrupt)
		journal_open
		component_failed "$ER"
		return 0
		;;
	fresh)
		journal_open
		jlog "$C_NAME: no data yet: recording epoch $C_EPOCH"
		record_epoch "$C_NAME" "$C_EPOCH"
		;;
	*)
		if [ "$CE" != "$C_EPOCH" ]; then
			chain_of "$C_NAME"
			journal_open
			if [ -z "$CHAIN_OK" ]; then
				component_failed "no chain of this image's scripts from epoch $CE to $C_EPOCH"
				return 0
			fi
			if ! run_chain boot; then
				if [ "$FAIL_KIND" = timeout ]; then
					component_failed "$FAILED_ID was killed after ${SCRIPT_TIMEOUT}s, its time limit"
				else
					component_failed "$FAILED_ID failed (exit status $RS)"
				fi
				return 0
			fi
		fi
		;;
	esac
	clear_failures "$C_NAME"
}

# for_components TABLE FUNCTION: FUNCTION once per line of TABLE, the component loaded.
for_components() {
	fc_table=$1 fc_fn=$2
	IFS=$NL
	set -f
	for fc_line in $fc_table; do
		IFS=$DEFAULT_IFS
		set +f
		comp_set "$fc_line"
		if [ -z "$HAVE_COMPONENT" ] || [ "$C_NAME" = "$COMPONENT" ] || [ "$CMD" != boot ]; then
			"$fc_fn"
		fi
		IFS=$NL
		set -f
	done
	IFS=$DEFAULT_IFS
	set +f
}

boot_want() {
	current_epoch
	case $CK in
	record | baseline) [ "$CE" = "$C_EPOCH" ] || BT_WANT="$BT_WANT $C_NAME $CE" ;;
	esac
}

boot_run() {
	[ -z "$HALTED" ] || return 0
	boot_component
}

cmd_boot() {
	if ! bundle_present "$S"; then
		say "no migration bundle in $S: nothing to do"
		exit 0
	fi
	# The common boot: nothing to do, decided without a single process.
	if idle_boot; then
		printf 'boot %s: nothing to do, every component at the image'"'"'s epochs\n' "$IDLE_RELEASE"
		exit 0
	fi
	lock_take
	image_load
	RUN_DIR=$S
	if [ -n "$HAVE_COMPONENT" ]; then
		comp_find "$COMPONENT" "$M_COMPS" || die 2 "unknown component $COMPONENT (not in $S/manifest.tsv)"
	fi
	recover
	finish_preflash boot
	# Pass 1 (reads only): current epochs, and the chains of the components that need one.
	BT_WANT=
	for_components "$M_COMPS" boot_want
	if [ -n "$HAVE_COMPONENT" ]; then
		comp_find "$COMPONENT" "$M_COMPS"
		current_epoch
		# Failed earlier in this boot and still not at the image's epoch: report, do not
		# run the failing script a second time in the same boot.
		if [ "$CE" != "$C_EPOCH" ] && failed_here "$C_NAME" && [ -n "$FB" ]; then
			die 1 "$C_NAME failed earlier in this boot (see $J; 'runner status')"
		fi
	fi
	plan boot "$BT_WANT"
	# Pass 2: run.
	for_components "$M_COMPS" boot_run
	[ -z "$HALTED" ] || {
		final_sync
		exit 1
	}
	if [ -n "$JOPEN" ]; then
		jlog "end: ok${ISOLATED:+ (isolated:$ISOLATED)}"
		final_sync
	fi
	ran_summary
	if [ -n "$ISOLATED" ]; then
		printf 'boot %s: %s; isolated, its services stay stopped:%s (runner status)\n' "$M_RELEASE" "$RAN_TEXT" "$ISOLATED"
	else
		printf 'boot %s: %s; every component at the image'"'"'s epochs\n' "$M_RELEASE" "$RAN_TEXT"
	fi
	if [ -n "$HAVE_COMPONENT" ] && [ -n "$ISOLATED" ]; then
		exit 1
	fi
	exit 0
}

# --- pre-flash -----------------------------------------------------------------------------------
# resolve_target: TDIR := a private copy of the target's bundle folder in WORK, taken once:
# every target file the runner uses (manifest, signature, scripts, keys) is read from this
# copy only, so nothing swapped in the target folder after the check can be used.
resolve_target() {
	TDIR=$WORK/target
	if [ -f "$TARGET" ]; then
		mkdir "$TDIR" || die 2 "cannot create $TDIR"
		tar -xzf "$TARGET" -C "$TDIR" || die 2 "cannot extract the bundle $TARGET"
		if [ -f "$TDIR$SCRIPTS_DIR/manifest.tsv" ]; then
			TDIR=$TDIR$SCRIPTS_DIR
		elif [ -f "$TDIR/usr/share/migration.d/manifest.tsv" ]; then
			TDIR=$TDIR/usr/share/migration.d
		elif [ ! -f "$TDIR/manifest.tsv" ]; then
			die 2 "$TARGET holds no manifest.tsv"
		fi
		return 0
	fi
	[ -d "$TARGET" ] || die 2 "target $TARGET does not exist"
	strip_slashes "$TARGET"
	if [ -f "$SS$SCRIPTS_DIR/manifest.tsv" ]; then
		rt_src=$SS$SCRIPTS_DIR
	elif [ -f "$SS/usr/share/migration.d/manifest.tsv" ]; then
		rt_src=$SS/usr/share/migration.d
	elif [ -f "$SS/manifest.tsv" ]; then
		rt_src=$SS
	else
		die 2 "$TARGET holds no migration bundle (no manifest.tsv)"
	fi
	# -P: a link is copied as a link (and then refused), never followed.
	cp -R -P -- "$rt_src" "$TDIR" || die 2 "cannot copy the target bundle $rt_src"
}

# pf_load C: the component's facts for pre-flash: the running image's when it knows the
# component (its data layout is the running one), else the target's; PF_TEPOCH := the
# target's epoch of it ("" when the target does not have it).
pf_load() {
	PF_TEPOCH=
	if comp_find "$1" "$T_COMPS"; then PF_TEPOCH=$C_EPOCH; fi
	comp_find "$1" "$M_COMPS" || comp_find "$1" "$T_COMPS"
}

in_wipe_list() {
	case " $WIPE_LIST " in *" $1 "*) return 0 ;; esac
	return 1
}

cmd_preflash() {
	lock_take
	M_RELEASE=none M_PLATFORM=- M_COMPS='' M_KEYS='' M_SCRIPTS=''
	if bundle_present "$S"; then
		image_load
	fi
	RUN_DIR=$S
	resolve_target
	# The target is proven with the running image's trust store: the keys it lists.
	bundle_load "$TDIR" target running
	T_RELEASE=$P_RELEASE T_PLATFORM=$P_PLATFORM T_COMPS=$P_COMPS T_SCRIPTS=$P_SCRIPTS
	if [ -n "$M_COMPS" ] && [ "$M_PLATFORM" != "$T_PLATFORM" ]; then
		die 2 "the target bundle of $T_RELEASE is built for platform $T_PLATFORM, this device's image for $M_PLATFORM (- is none): refusing it, nothing run"
	fi
	for pf_w in $WIPE_LIST; do
		comp_find "$pf_w" "$M_COMPS" || comp_find "$pf_w" "$T_COMPS" ||
			die 2 "--wipe: unknown component $pf_w (in neither image)"
	done
	# Order: the running image's components that the target also has, in the running
	# order (its scripts run now), then the target's own new ones.
	PF_ORDER=
	for_components "$M_COMPS" pf_order_running
	for_components "$T_COMPS" pf_order_new
	recover
	finish_preflash pre-flash
	pf_want='' pf_bad=''
	for pf_c in $PF_ORDER; do
		in_wipe_list "$pf_c" && continue
		pf_load "$pf_c"
		[ -n "$PF_TEPOCH" ] || continue
		current_epoch
		case $CK in
		corrupt) pf_bad="$pf_bad $pf_c($ER)" ;;
		record | baseline) [ "$CE" = "$PF_TEPOCH" ] || pf_want="$pf_want $pf_c $CE" ;;
		esac
	done
	plan preflash "$pf_want"
	# shellcheck disable=SC2086 # split on purpose: blank-free fields
	set -- $pf_want
	while [ $# -ge 2 ]; do
		chain_of "$1"
		[ -n "$CHAIN_OK" ] || pf_bad="$pf_bad $1(no chain from epoch $2 to $T_RELEASE's)"
		shift 2
	done
	[ -z "$pf_bad" ] ||
		die 1 "cannot reach $T_RELEASE without wiping:$pf_bad; nothing run (plan with --allow-wipe, then pass --wipe)"
	journal_open
	jlog "pre-flash to $T_RELEASE"
	for pf_c in $PF_ORDER; do
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
		chain_of "$pf_c"
		if ! run_chain pre-flash; then
			if [ "$FAIL_KIND" = timeout ]; then
				die 1 "$pf_c: $FAILED_ID was killed after ${SCRIPT_TIMEOUT}s, its time limit, before the flash: do not flash $T_RELEASE (see $J)"
			fi
			die 1 "$pf_c: $FAILED_ID failed before the flash: do not flash $T_RELEASE (see $J)"
		fi
		chain_ids L
		[ -z "$CHAIN_IDS" ] || jlog "$pf_c: at $T_RELEASE's boot:$CHAIN_IDS"
	done
	jlog "end: ready to flash $T_RELEASE"
	final_sync
	ran_summary
	pf_wiped=''
	for pf_w in $WIPE_LIST; do pf_wiped="$pf_wiped $pf_w"; done
	printf 'pre-flash to %s: %s now%s; ready to flash\n' "$T_RELEASE" "$RAN_TEXT" "${pf_wiped:+, wiped:$pf_wiped}"
	# Every chain is committed: the markers have nothing left to announce.
	for pf_m in "$ST"/preflash/*; do
		[ -f "$pf_m" ] || continue
		rm -f "$ST"/preflash/* || say "warning: cannot remove the pre-flash markers"
		break
	done
	exit 0
}

pf_order_running() {
	if comp_find "$C_NAME" "$T_COMPS" || in_wipe_list "$C_NAME"; then PF_ORDER="$PF_ORDER $C_NAME"; fi
	comp_find "$C_NAME" "$M_COMPS"
}

pf_order_new() {
	comp_find "$C_NAME" "$M_COMPS" || PF_ORDER="$PF_ORDER $C_NAME"
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
# starts from where that script leads (CE := its `to`; ST_FIRST := its id), or cannot
# start when this image does not ship it (CK := corrupt). ST_FIRST is empty otherwise.
status_interrupted() {
	ST_FIRST=
	[ -f "$ST/preflash/$C_NAME" ] || return 0
	case $CK in record | baseline) ;; *) return 0 ;; esac
	preflash_find "$ST/preflash/$C_NAME" "$CE"
	[ -n "$FP_ID" ] || return 0
	if [ -n "$FP_BAD" ]; then
		CK=corrupt
		return 0
	fi
	ST_FIRST=$FP_ID
	preflash_shipped
	if [ -n "$FP_FILE" ]; then CE=$FP_TO; else CK=corrupt; fi
}

status_want() {
	current_epoch
	status_interrupted
	case $CK in
	record | baseline) [ "$CE" = "$C_EPOCH" ] || ST_WANT="$ST_WANT $C_NAME $CE" ;;
	esac
}

status_row() {
	current_epoch
	if [ "$CK" = wiping ]; then
		# As boot will see it once the wipe is finished.
		if [ -n "$C_PATHS" ]; then CE=$C_EPOCH; else CE=$C_BASE; fi
		CK=wiping
	fi
	st_pending=
	st_state=ok
	st_epoch=$CE
	status_interrupted
	if [ -n "$ST_FIRST" ]; then st_int="\"$ST_FIRST\""; else st_int=null; fi
	if [ "$CK" = corrupt ]; then
		st_state=corrupt
	elif [ "$CE" != "$C_EPOCH" ]; then
		chain_of "$C_NAME"
		if [ -n "$CHAIN_OK" ]; then
			st_state=pending
			chain_ids S
			st_pending=$CHAIN_IDS
		else
			st_state=unreachable
		fi
	fi
	[ "$CK" != wiping ] || st_state=wiping
	st_pending=${ST_FIRST:+$ST_FIRST }${st_pending# }
	st_pending=${st_pending% }
	if [ -n "$ST_FIRST" ]; then
		case $st_state in
		corrupt | unreachable) st_state=interrupted,unreachable ;;
		*) st_state=interrupted ;;
		esac
	fi
	CE=$st_epoch
	if failed_here "$C_NAME"; then st_failed=true; else st_failed=false; fi
	# shellcheck disable=SC2086 # ids are space-separated and blank-free
	json_list $st_pending
	ST_COMPS="$ST_COMPS${ST_COMPS:+,}{\"name\":\"$C_NAME\",\"epoch\":${CE:-null},\"imageEpoch\":$C_EPOCH,\"pending\":[$JL],\"interrupted\":$st_int,\"failed\":$st_failed}"
	[ "$st_failed" = false ] || st_state="$st_state,failed"
	ST_ROWS="$ST_ROWS$C_NAME	${CE:-?}	$C_EPOCH	$st_state	${st_pending:--}$NL"
}

# failure_details RECORD ID: what a failure record says, for status: FD_JSON (the fields
# "phase", "from", "to", "status" (the script's exit status, null when it has none),
# "reason" and "journal", the last lines the journal has of that script's failed run),
# FD_TEXT (", 1->2 at boot: exit 3") and FD_LINES (those journal lines, indented).
failure_details() {
	fd_phase='' fd_from='' fd_to='' fd_status='' fd_reason=''
	if [ -f "$1" ]; then
		while IFS= read -r fd_l; do
			case $fd_l in
			phase=*) fd_phase=${fd_l#phase=} ;;
			from=*) fd_from=${fd_l#from=} ;;
			to=*) fd_to=${fd_l#to=} ;;
			status=*) fd_status=${fd_l#status=} ;;
			reason=*) fd_reason=${fd_l#reason=} ;;
			esac
		done <"$1"
	fi
	isint "$fd_from" || fd_from=''
	isint "$fd_to" || fd_to=''
	isint "$fd_status" || fd_status=''
	case $fd_phase in boot | pre-flash) ;; *) fd_phase='' ;; esac
	# The runner wrote the reason itself; still, nothing that would break the JSON.
	case $fd_reason in *[\"\\]*) fd_reason='?' ;; esac
	FD_JSON="\"phase\":${fd_phase:+\"}${fd_phase:-null}${fd_phase:+\"},\"from\":${fd_from:-null},\"to\":${fd_to:-null},\"status\":${fd_status:-null},\"reason\":${fd_reason:+\"}${fd_reason:-null}${fd_reason:+\"}"
	FD_TEXT=''
	[ -z "$fd_from" ] || FD_TEXT=", $fd_from->$fd_to"
	[ -z "$fd_phase" ] || FD_TEXT="$FD_TEXT at $fd_phase"
	if [ -n "$fd_status" ]; then
		FD_TEXT="$FD_TEXT: exit $fd_status"
	elif [ -n "$fd_reason" ]; then
		FD_TEXT="$FD_TEXT: $fd_reason"
	fi
	FD_LINES=''
	fd_j=''
	case ${2#@} in "$2") [ -f "$J" ] && fd_j=$J ;; esac
	if [ -z "$fd_j" ]; then
		FD_JSON="$FD_JSON,\"journal\":[]"
		return 0
	fi
	# The journal's lines of the script's last run: from its "run" line to its "FAILED"
	# line, the last 10 of them (script output included). Not a safety decision: awk only
	# cuts and escapes text for display.
	fd_out=$(awk -v id="$2" -v json="$JSON" '
		function esc(s) {
			gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s)
			gsub(/[\001-\037\177]/, "?", s)
			return s
		}
		index($0, " run " id " (") { n = 0; on = 1 }
		on { L[++n] = $0; if (index($0, " FAILED " id " (")) { on = 0; m = n; for (i = 1; i <= n; i++) K[i] = L[i] } }
		END {
			from = m > 10 ? m - 9 : 1
			for (i = from; i <= m; i++) {
				if (json != "") printf "%s\"%s\"", (i > from ? "," : ""), esc(K[i])
				else printf "      | %s\n", K[i]
			}
		}' "$fd_j" 2>/dev/null) || fd_out=''
	if [ -n "$JSON" ]; then
		FD_JSON="$FD_JSON,\"journal\":[$fd_out]"
	else
		[ -z "$fd_out" ] || FD_LINES="$fd_out$NL"
	fi
}

cmd_status() {
	M_RELEASE='' M_PLATFORM=- M_COMPS='' M_SCRIPTS='' M_KEYS=''
	if bundle_present "$S"; then
		work_open
		image_load
	fi
	ST_WANT=
	for_components "$M_COMPS" status_want
	[ -z "$M_COMPS" ] || plan boot "$ST_WANT"
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
		failure_details "$st_f" "$st_id"
		st_fail_json="$st_fail_json${st_fail_json:+,}{\"id\":\"$st_id\",\"component\":$st_fc,$FD_JSON}"
		st_fail_text="$st_fail_text  $st_id ($FC$FD_TEXT)$NL$FD_LINES"
	done
	ST_ROWS='' ST_COMPS=''
	for_components "$M_COMPS" status_row
	if [ -n "$JSON" ]; then
		if [ -n "$M_RELEASE" ]; then st_rel="\"$M_RELEASE\""; else st_rel=null; fi
		if [ "$M_PLATFORM" = - ]; then st_plat=null; else st_plat="\"$M_PLATFORM\""; fi
		printf '{"release":%s,"platform":%s,"components":[%s],"failures":[%s]}\n' \
			"$st_rel" "$st_plat" "$ST_COMPS" "$st_fail_json"
		exit 0
	fi
	if [ -z "$M_RELEASE" ]; then
		printf 'no migration bundle in %s\n' "$S"
	else
		printf 'release %s, platform %s\n' "$M_RELEASE" "$M_PLATFORM"
		printf '%s' "COMPONENT	EPOCH	IMAGE	STATE	PENDING
$ST_ROWS" | awk -F '\t' '
			{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } ; n = NR; nf = NF }
			END { for (r = 1; r <= n; r++) { line = ""; for (i = 1; i < nf; i++) line = line sprintf("%-" (w[i] + 2) "s", cell[r, i]); print line cell[r, nf] } }'
	fi
	if [ -n "$st_fail_text" ]; then
		printf 'failures:\n%s' "$st_fail_text"
	fi
	exit 0
}

# --- run ---------------------------------------------------------------------------------------------
# work_open: the run's private folder, under the lock folder (a tmpfs on a device).
work_open() {
	[ -z "$WORK" ] || return 0
	WORK=$L/work.$$
	mkdir -p "$WORK" || die 1 "cannot create $WORK (is ${L%/*} a writable tmpfs?)"
	WORK_MADE=1
}
WORK_MADE=

on_exit() {
	oe_rc=$?
	IFS=$DEFAULT_IFS
	set +f
	[ -z "$JOPEN" ] || journal_flush
	workers_stop
	if [ -n "$GEN" ]; then
		lock_release
	elif [ -n "$WORK_MADE" ]; then
		rm -rf -- "$WORK" 2>/dev/null || true
	fi
	exit "$oe_rc"
}
trap on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

case $CMD in
boot) cmd_boot ;;
pre-flash) cmd_preflash ;;
status) cmd_status ;;
esac
