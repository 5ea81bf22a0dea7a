// Fault injection: a replaceable list of rules, each matching calls by
// service / operation / target and firing one effect on some of them. The
// local servers never fail on their own, so these rules are what make the
// retry and error paths of a client testable against real HTTP.

const SERVICES = new Set(["dynamodb", "sqs", "s3"]);
const ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestThrottled",
  "SlowDown",
  "http500",
  "http503",
]);
const EFFECTS = ["unprocessed", "error", "failed_entries", "cut_after_bytes", "stall_ms"];

function fraction(value, name) {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new Error(`${name} must be a number in [0, 1]`);
  }
  return value;
}

function nonNegativeInteger(value, name) {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer`);
  }
  return value;
}

// Validates one rule and returns its normalised form (throws Error with a
// message meant for the HTTP client on anything malformed).
export function parseRule(raw) {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new Error("a fault rule must be a JSON object");
  }
  const known = new Set(["id", "service", "operation", "target", "probability", "count", "drop", ...EFFECTS]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new Error(`unknown fault rule field "${key}"`);
  }
  if (!SERVICES.has(raw.service)) {
    throw new Error(`service must be one of ${[...SERVICES].join(", ")}`);
  }
  const rule = { service: raw.service };
  if (raw.operation !== undefined) {
    if (typeof raw.operation !== "string" || raw.operation === "") throw new Error("operation must be a string");
    rule.operation = raw.operation;
  }
  if (raw.target !== undefined) {
    if (typeof raw.target !== "string" || raw.target === "") throw new Error("target must be a string");
    rule.target = raw.target;
  }
  if (raw.probability !== undefined && raw.count !== undefined) {
    throw new Error("give either probability or count, not both");
  }
  if (raw.probability !== undefined) rule.probability = fraction(raw.probability, "probability");
  if (raw.count !== undefined) rule.count = nonNegativeInteger(raw.count, "count");

  const effects = EFFECTS.filter((e) => raw[e] !== undefined);
  if (effects.length !== 1) {
    throw new Error(`a fault rule needs exactly one effect of ${EFFECTS.join(", ")}`);
  }
  const effect = effects[0];
  switch (effect) {
    case "unprocessed":
    case "failed_entries":
      rule[effect] = fraction(raw[effect], effect);
      break;
    case "error":
      if (!ERRORS.has(raw.error)) throw new Error(`error must be one of ${[...ERRORS].join(", ")}`);
      rule.error = raw.error;
      break;
    case "cut_after_bytes":
    case "stall_ms":
      rule[effect] = nonNegativeInteger(raw[effect], effect);
      break;
  }
  if (raw.drop !== undefined) {
    if (effect !== "stall_ms" || typeof raw.drop !== "boolean") {
      throw new Error("drop is a boolean and only applies to stall_ms");
    }
    rule.drop = raw.drop;
  }
  rule.effect = effect;
  return rule;
}

export class FaultSet {
  #rules = [];
  #nextId = 1;
  #firedTotal = 0;
  #random;

  constructor(random = Math.random) {
    this.#random = random;
  }

  // Replaces every rule (PUT /faults). Counters of the removed rules go away.
  replace(rawRules) {
    const parsed = this.#parseList(rawRules);
    this.#rules = parsed.map((rule) => this.#install(rule));
    return this.list();
  }

  // Appends rules and returns what was added, with ids (POST /faults).
  add(rawRules) {
    const parsed = this.#parseList(rawRules);
    return parsed.map((rule) => {
      const installed = this.#install(rule);
      this.#rules.push(installed);
      return this.#view(installed);
    });
  }

  clear() {
    this.#rules = [];
  }

  remove(id) {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length !== before;
  }

  get(id) {
    const rule = this.#rules.find((r) => r.id === id);
    return rule ? this.#view(rule) : undefined;
  }

  list() {
    return { rules: this.#rules.map((r) => this.#view(r)), fired_total: this.#firedTotal };
  }

  // Returns the rule that fires for this call, or undefined. call =
  // {service, operation, targets: [names]}. The first rule in list order that
  // matches and triggers wins; a count rule counts only calls it matched.
  pick(call) {
    for (const rule of this.#rules) {
      if (rule.service !== call.service) continue;
      if (rule.operation !== undefined && rule.operation !== call.operation) continue;
      if (rule.target !== undefined && !call.targets.includes(rule.target)) continue;
      rule.matched += 1;
      let fires;
      if (rule.count !== undefined) fires = rule.matched <= rule.count;
      else if (rule.probability !== undefined) fires = this.#random() < rule.probability;
      else fires = true;
      if (!fires) continue;
      rule.fired += 1;
      this.#firedTotal += 1;
      return rule;
    }
    return undefined;
  }

  #parseList(rawRules) {
    const list = Array.isArray(rawRules) ? rawRules : rawRules?.rules ?? [rawRules];
    if (!Array.isArray(list)) throw new Error("expected a rule, a list of rules or {\"rules\": [...]}");
    return list.map((raw, i) => {
      try {
        return parseRule(raw);
      } catch (err) {
        throw new Error(`rule ${i}: ${err.message}`);
      }
    });
  }

  #install(rule) {
    return { ...rule, id: String(this.#nextId++), matched: 0, fired: 0 };
  }

  #view(rule) {
    const { matched, fired, ...spec } = rule;
    return { ...spec, matched, fired };
  }
}
