# The seed of a test's fault rules, shared by the script tests' add_faults
# helpers. Sourced; needs TEST_NAME and fail.
#
# Every rule set is posted with FAULT_SEED, so its random draws (probability
# rules) are the same whenever the test runs with that seed: the seed is
# printed to stderr, and LOCALAWS_FAULT_SEED=N replays a failed run's faults.
FAULT_SEED=${LOCALAWS_FAULT_SEED:-$((RANDOM << 17 | RANDOM << 2 | RANDOM & 3))}

# Prints {"seed": FAULT_SEED, "rules": [...]} for a rule, a list of rules or
# {"rules": [...]}.
seeded_fault_body() { # RULES_JSON
  jq -c --argjson seed "$FAULT_SEED" \
    '{seed: $seed, rules: (if type == "array" then . elif has("rules") then .rules else [.] end)}' \
    <<<"$1" || fail "fault rules are not JSON: $1"
  echo "$TEST_NAME: fault rules seeded with $FAULT_SEED (replay: LOCALAWS_FAULT_SEED=$FAULT_SEED)" >&2
}
