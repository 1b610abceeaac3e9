#!/bin/sh
# Runs the fuzzing harnesses one after the other: run.sh NAME:MAX_LEN...
#
# FUZZ_SECONDS > 0: each harness fuzzes for that long, starting from its
# seeds (tests/fuzz/corpus/NAME) and what earlier runs found
# (FUZZ_DIR/corpus/NAME).  FUZZ_SECONDS = 0: every input of both is run
# once, whole, as a regression test.  Crashes, leaks, sanitizer reports
# and timeouts fail the run; the input is kept in FUZZ_DIR/findings/NAME.
# Each harness's output is in FUZZ_DIR/logs/NAME.log.

dir=${FUZZ_DIR:-build/fuzz-clang}
secs=${FUZZ_SECONDS:-60}
seeds=tests/fuzz/corpus
failed=""

mkdir -p "$dir/logs" || exit 1
# The harnesses' spools and logs; a crash leaves them behind.
parent=/dev/shm
[ -w "$parent" ] || parent=${TMPDIR:-/tmp}
SENDQ_FUZZ_TMP=$(mktemp -d "$parent/sendq-fuzz-run.XXXXXX") || exit 1
export SENDQ_FUZZ_TMP
trap 'rm -rf "$SENDQ_FUZZ_TMP"' EXIT
trap 'exit 130' INT TERM
for t in "$@"; do
	name=${t%%:*}
	maxlen=${t#*:}
	bin=$dir/fuzz_$name
	log=$dir/logs/$name.log
	mkdir -p "$dir/corpus/$name" "$dir/findings/$name" || exit 1
	dict=""
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	common="-artifact_prefix=$dir/findings/$name/ -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1"
	if [ "$secs" -eq 0 ]; then
		# Files given one by one are run whole, whatever max_len.
		files=$(find "$seeds/$name" "$dir/corpus/$name" -type f \
		    2>/dev/null | sort)
		if [ -z "$files" ]; then
			echo "fuzz $name: no corpus"
			failed="$failed $name"
			continue
		fi
		# shellcheck disable=SC2086
		$bin $common $files >"$log" 2>&1
		rc=$?
		n=$(echo "$files" | wc -l)
		what="$n inputs"
	else
		# shellcheck disable=SC2086
		$bin $common $dict -max_len="$maxlen" \
		    -max_total_time="$secs" "$dir/corpus/$name" \
		    "$seeds/$name" >"$log" 2>&1
		rc=$?
		what=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$log")
		cov=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" |
		    tail -1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1 ft \2/p')
		what="$what runs in ${secs}s, $cov"
	fi
	if [ $rc -ne 0 ]; then
		echo "fuzz $name: FAILED (exit $rc; see $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|sendq-fuzz:|.*runtime error)' \
		    "$log" | head -5
		failed="$failed $name"
	else
		echo "fuzz $name: ok ($what)"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed"
	exit 1
fi
exit 0
