// Fault injection: a replaceable list of rules, each matching calls by
// service / operation / target and firing one effect on some of them. The
// local servers never fail on their own, so these rules are what make the
// retry and error paths of a client testable against real HTTP.
//
// Every random decision is drawn from a seeded generator, one per rule, so a
// run that failed can be replayed: a rule fires on the k-th call it matches
// exactly when it did before, whatever other rules and clients do meanwhile.
import { randomInt } from "node:crypto";

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

const SEED_LIMIT = 2 ** 32;

// A seed is an integer in [0, 2^32). Returns it, or throws naming `name`.
export function parseSeed(value, name = "seed") {
  const n = typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (!Number.isInteger(n) || n < 0 || n >= SEED_LIMIT) {
    throw new Error(`${name} must be an integer from 0 to ${SEED_LIMIT - 1}, not ${JSON.stringify(value)}`);
  }
  return n;
}

export function freshSeed() {
  return randomInt(SEED_LIMIT);
}

// murmur3's 32-bit finaliser: spreads a seed and a rule's position over all bits.
function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

// The seed of the n-th rule of a set seeded with `seed`.
export function ruleSeed(seed, n) {
  return mix32((seed ^ mix32(n + 0x9e3779b9)) >>> 0);
}

// mulberry32: a small PRNG with a 32-bit state, uniform in [0, 1).
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / SEED_LIMIT;
  };
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
  const known = new Set(["id", "service", "operation", "target", "probability", "count", "seed", "drop", ...EFFECTS]);
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
  if (raw.seed !== undefined) rule.seed = parseSeed(raw.seed);

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
  #seed;
  // Per installed rule: its random source (kept out of the rule's view).
  #random = new WeakMap();

  // `seed`: the set's seed, from which rules added without one derive theirs;
  // a fresh one when not given (printed at start and shown by list()).
  // `onCall`: told of every call pick() sees (the operation log).
  #onCall;
  constructor({ seed, onCall } = {}) {
    this.#seed = seed === undefined ? freshSeed() : parseSeed(seed);
    this.#onCall = onCall;
  }

  get seed() {
    return this.#seed;
  }

  // Replaces every rule (PUT /faults). Counters of the removed rules go away.
  replace(body) {
    const { seed, rules } = this.#parseBody(body);
    this.#rules = rules.map((rule, i) => this.#install(rule, seed, i));
    return this.list();
  }

  // Appends rules and returns what was added, with ids (POST /faults).
  add(body) {
    const { seed, rules } = this.#parseBody(body);
    return rules.map((rule, i) => {
      const installed = this.#install(rule, seed, i);
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
    return { seed: this.#seed, rules: this.#rules.map((r) => this.#view(r)), fired_total: this.#firedTotal };
  }

  // Returns the rule that fires for this call, or undefined. call =
  // {service, operation, targets: [names], key?, agent?}. The first rule in list order that
  // matches and triggers wins; a count rule counts only calls it matched.
  pick(call) {
    this.#onCall?.(call);
    for (const rule of this.#rules) {
      if (rule.service !== call.service) continue;
      if (rule.operation !== undefined && rule.operation !== call.operation) continue;
      if (rule.target !== undefined && !call.targets.includes(rule.target)) continue;
      rule.matched += 1;
      let fires;
      if (rule.count !== undefined) fires = rule.matched <= rule.count;
      else if (rule.probability !== undefined) fires = this.#random.get(rule)() < rule.probability;
      else fires = true;
      if (!fires) continue;
      rule.fired += 1;
      this.#firedTotal += 1;
      return rule;
    }
    return undefined;
  }

  // A body is one rule, a list of rules, or {"seed": S, "rules": [...]}.
  #parseBody(body) {
    let seed;
    let list;
    if (Array.isArray(body)) {
      list = body;
    } else if (body !== null && typeof body === "object" && "rules" in body) {
      for (const key of Object.keys(body)) {
        if (key !== "rules" && key !== "seed") throw new Error(`unknown field "${key}" (expected rules, seed)`);
      }
      if (body.seed !== undefined) seed = parseSeed(body.seed);
      list = body.rules ?? [];
    } else {
      list = [body];
    }
    if (!Array.isArray(list)) throw new Error("expected a rule, a list of rules or {\"rules\": [...]}");
    const rules = list.map((raw, i) => {
      try {
        return parseRule(raw);
      } catch (err) {
        throw new Error(`rule ${i}: ${err.message}`);
      }
    });
    return { seed, rules };
  }

  // A rule's seed: its own, else the i-th of its body's seed (so a body sent
  // again with the same seed draws the same), else derived from the set's seed
  // and its id.
  #install(rule, bodySeed, i) {
    const id = this.#nextId++;
    const seed = rule.seed ?? (bodySeed !== undefined ? ruleSeed(bodySeed, i) : ruleSeed(this.#seed, id));
    const installed = { ...rule, seed, id: String(id), matched: 0, fired: 0 };
    this.#random.set(installed, seededRandom(seed));
    return installed;
  }

  #view(rule) {
    const { matched, fired, ...spec } = rule;
    return { ...spec, matched, fired };
  }
}
