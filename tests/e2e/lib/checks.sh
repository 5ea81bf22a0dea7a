# The check helpers of the script tests (e2e and moto): each passed check is
# counted in CHECKS; the first failed one ends the test. Sourced; expects
# TEST_NAME and CHECKS; check_accounting also BUCKET, DLQ, WORK_DIR, E2E_LIB and
# the readers scan_table OUT and drain_queue QUEUE OUT of the sourcing library.
fail() {
  echo "FAIL ($TEST_NAME): $*" >&2
  echo "$TEST_NAME: $CHECKS passed, 1 failed"
  exit 1
}
ok() {
  CHECKS=$((CHECKS + 1))
  echo "ok: $*"
}
expect_eq() { # what expected actual
  if [ "$2" != "$3" ]; then fail "$1: expected [$2], got [$3]"; fi
  ok "$1"
}
expect_match() { # what regex actual
  if ! [[ $3 =~ $2 ]]; then fail "$1: [$3] does not match /$2/"; fi
  ok "$1"
}

# The accounting invariant for every object of EXPECTED (JSON: key ->
# {records, valid, rejected}), over the table and the whole DLQ (drained
# here), with duplicates from the worker logs. Extra options go to account.py
# (e.g. --allow-repeated-envelopes after a crash).
check_accounting() { # EXPECTED [account.py options...] -- LOG...
  local expected=$1
  shift
  scan_table "$WORK_DIR/scan.json"
  drain_queue "$DLQ" "$WORK_DIR/dlq.jsonl"
  python3 "$E2E_LIB/account.py" --bucket "$BUCKET" --expected "$expected" \
    --scan "$WORK_DIR/scan.json" --dlq "$WORK_DIR/dlq.jsonl" "$@" >"$WORK_DIR/account.out" 2>&1 || {
    cat "$WORK_DIR/account.out"
    fail "accounting (see above)"
  }
  cat "$WORK_DIR/account.out"
  CHECKS=$((CHECKS + $(grep -c '^ok:' "$WORK_DIR/account.out")))
}
