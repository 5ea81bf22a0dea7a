// S3 bucket event notifications to SQS, which fauxqs lacks: the bucket
// notification configuration (PUT/GET ?notification) and the messages real S3
// sends (s3:TestEvent when a queue is configured, ObjectCreated:* records).
import { randomUUID } from "node:crypto";
import { hostId, requestId, xmlEscape, xmlUnescape } from "./http-util.js";

export const ACCOUNT_ID = "000000000000";
const OWNER_PRINCIPAL = "A3LOCALAWSOWNER";
const REQUESTER_PRINCIPAL = "AWS:AIDALOCALAWSREQUESTER";

const CREATED_EVENTS = new Set([
  "s3:ObjectCreated:*",
  "s3:ObjectCreated:Put",
  "s3:ObjectCreated:Post",
  "s3:ObjectCreated:Copy",
  "s3:ObjectCreated:CompleteMultipartUpload",
]);
// Accepted and stored so a configuration round-trips, but never sent: fauxqs
// has no way to tell us about these.
const OTHER_EVENTS = new Set([
  "s3:ObjectRemoved:*",
  "s3:ObjectRemoved:Delete",
  "s3:ObjectRemoved:DeleteMarkerCreated",
  "s3:ObjectRestore:*",
  "s3:ObjectRestore:Post",
  "s3:ObjectRestore:Completed",
  "s3:ReducedRedundancyLostObject",
  "s3:Replication:*",
  "s3:LifecycleExpiration:*",
  "s3:LifecycleTransition",
  "s3:IntelligentTiering",
  "s3:ObjectTagging:*",
  "s3:ObjectAcl:Put",
]);

export class S3NotificationError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Encodes an object key the way S3 writes it into event records: like
// application/x-www-form-urlencoded (space as '+', '+' as %2B, UTF-8 bytes
// percent-encoded), except that '/' stays as it is.
export function encodeEventKey(key) {
  let out = "";
  for (const byte of Buffer.from(key, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.*/]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function allMatches(xml, tag) {
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g");
  return [...xml.matchAll(re)].map((m) => m[1]);
}

function firstText(xml, tag) {
  const found = allMatches(xml, tag);
  return found.length > 0 ? xmlUnescape(found[0].trim()) : undefined;
}

// Parses a NotificationConfiguration document into [{id, queueArn, queueName,
// events, prefix, suffix}]. Destinations other than SQS are refused.
export function parseNotificationXml(xml, region) {
  const body = xml.replace(/<\?xml[^>]*\?>/, "").trim();
  if (body !== "" && !/^<NotificationConfiguration[\s>]/.test(body) && body !== "<NotificationConfiguration/>") {
    throw new S3NotificationError(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
  }
  for (const unsupported of ["TopicConfiguration", "CloudFunctionConfiguration", "LambdaFunctionConfiguration", "EventBridgeConfiguration"]) {
    if (new RegExp(`<${unsupported}[\\s>/]`).test(body)) {
      throw new S3NotificationError(501, "NotImplemented", `${unsupported} is not supported by the local stack; only QueueConfiguration is`);
    }
  }
  return allMatches(body, "QueueConfiguration").map((block) => {
    const queueArn = firstText(block, "Queue");
    if (!queueArn) throw new S3NotificationError(400, "InvalidArgument", "QueueConfiguration without Queue");
    const arnParts = queueArn.split(":");
    if (arnParts.length !== 6 || arnParts[0] !== "arn" || arnParts[2] !== "sqs") {
      throw new S3NotificationError(400, "InvalidArgument", `Invalid queue ARN: ${queueArn}`);
    }
    const events = allMatches(block, "Event").map((e) => xmlUnescape(e.trim()));
    if (events.length === 0) throw new S3NotificationError(400, "InvalidArgument", "QueueConfiguration without Event");
    for (const event of events) {
      if (!CREATED_EVENTS.has(event) && !OTHER_EVENTS.has(event)) {
        throw new S3NotificationError(400, "InvalidArgument", `The event is not supported for notifications: ${event}`);
      }
    }
    let prefix;
    let suffix;
    for (const rule of allMatches(block, "FilterRule")) {
      const name = (firstText(rule, "Name") ?? "").toLowerCase();
      const value = firstText(rule, "Value") ?? "";
      if (name === "prefix" && prefix === undefined) prefix = value;
      else if (name === "suffix" && suffix === undefined) suffix = value;
      else {
        throw new S3NotificationError(400, "InvalidArgument", "FilterRule names must be one prefix and one suffix");
      }
    }
    return {
      id: firstText(block, "Id") || Buffer.from(randomUUID()).toString("base64").replace(/=+$/, ""),
      queueArn,
      queueName: arnParts[5],
      region: arnParts[3] || region,
      events,
      prefix,
      suffix,
    };
  });
}

export function notificationXml(configs) {
  const parts = configs.map((c) => {
    const rules = [];
    if (c.prefix !== undefined) rules.push(`<FilterRule><Name>Prefix</Name><Value>${xmlEscape(c.prefix)}</Value></FilterRule>`);
    if (c.suffix !== undefined) rules.push(`<FilterRule><Name>Suffix</Name><Value>${xmlEscape(c.suffix)}</Value></FilterRule>`);
    const filter = rules.length > 0 ? `<Filter><S3Key>${rules.join("")}</S3Key></Filter>` : "";
    const events = c.events.map((e) => `<Event>${xmlEscape(e)}</Event>`).join("");
    return `<QueueConfiguration><Id>${xmlEscape(c.id)}</Id><Queue>${xmlEscape(c.queueArn)}</Queue>${events}${filter}</QueueConfiguration>`;
  });
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join("")}</NotificationConfiguration>`
  );
}

function eventsIntersect(a, b) {
  const family = (e) => e.replace(/:[^:]*$/, "");
  return a.some((x) =>
    b.some((y) => x === y || (family(x) === family(y) && (x.endsWith(":*") || y.endsWith(":*")))),
  );
}

// S3 refuses two configurations that could both announce one event of one
// key: a common event type, and prefixes and suffixes that do not exclude
// each other (one a prefix, resp. suffix, of the other; none counts as "").
function overlap(a, b) {
  const p1 = a.prefix ?? "";
  const p2 = b.prefix ?? "";
  const s1 = a.suffix ?? "";
  const s2 = b.suffix ?? "";
  return (
    eventsIntersect(a.events, b.events) &&
    (p1.startsWith(p2) || p2.startsWith(p1)) &&
    (s1.endsWith(s2) || s2.endsWith(s1))
  );
}

function configWants(config, eventName, key) {
  const wanted = config.events.some((e) => e === "s3:ObjectCreated:*" || e === `s3:${eventName}`);
  if (!wanted) return false;
  if (config.prefix !== undefined && !key.startsWith(config.prefix)) return false;
  if (config.suffix !== undefined && !key.endsWith(config.suffix)) return false;
  return true;
}

// Holds every bucket's configuration and turns object creations into queue
// messages. deliver(queueArn, queueName, body) puts a message on a queue and
// returns false when the queue does not exist.
export class Notifier {
  #configs = new Map(); // bucket -> [config]
  #sequence;
  #region;
  #deliver;
  #delivered = 0;
  #undeliverable = 0;

  constructor({ region, deliver }) {
    this.#region = region;
    this.#deliver = deliver;
    // Sequencers only have to grow; seeding from the clock keeps them growing
    // across restarts too, as S3's do.
    this.#sequence = BigInt(Date.now()) << 20n;
  }

  get(bucket) {
    return this.#configs.get(bucket) ?? [];
  }

  all() {
    return Object.fromEntries(this.#configs);
  }

  stats() {
    return { delivered: this.#delivered, undeliverable: this.#undeliverable };
  }

  // Replaces the bucket's configuration after checking every queue exists
  // (as S3 validates destinations), then sends an s3:TestEvent to each queue
  // that was not configured before.
  put(bucket, configs, queueExists) {
    const missing = configs.filter((c) => !queueExists(c.queueArn, c.queueName));
    if (missing.length > 0) {
      throw new S3NotificationError(
        400,
        "InvalidArgument",
        `Unable to validate the following destination configurations: ${missing.map((c) => c.queueArn).join(", ")}`,
      );
    }
    const ids = new Set();
    for (const c of configs) {
      if (ids.has(c.id)) throw new S3NotificationError(400, "InvalidArgument", `Duplicate configuration Id ${c.id}`);
      ids.add(c.id);
    }
    for (let i = 0; i < configs.length; ++i) {
      for (let j = i + 1; j < configs.length; ++j) {
        if (overlap(configs[i], configs[j])) {
          throw new S3NotificationError(
            400,
            "InvalidArgument",
            "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
          );
        }
      }
    }
    const before = new Set(this.get(bucket).map((c) => c.queueArn));
    if (configs.length === 0) this.#configs.delete(bucket);
    else this.#configs.set(bucket, configs);
    const tested = new Set();
    for (const c of configs) {
      if (before.has(c.queueArn) || tested.has(c.queueArn)) continue;
      tested.add(c.queueArn);
      this.#send(c, {
        Service: "Amazon S3",
        Event: "s3:TestEvent",
        Time: new Date().toISOString(),
        Bucket: bucket,
        RequestId: requestId(),
        HostId: hostId(),
      });
    }
  }

  forgetBucket(bucket) {
    this.#configs.delete(bucket);
  }

  // eventName: "ObjectCreated:Put" | "ObjectCreated:Copy" | "ObjectCreated:CompleteMultipartUpload"
  objectCreated({ bucket, key, size, etag, eventName, versionId }) {
    const configs = this.get(bucket).filter((c) => configWants(c, eventName, key));
    if (configs.length === 0) return;
    this.#sequence += 1n;
    const sequencer = this.#sequence.toString(16).toUpperCase().padStart(18, "0");
    const eventTime = new Date().toISOString();
    const reqId = requestId();
    const id2 = hostId();
    for (const c of configs) {
      const object = { key: encodeEventKey(key), size, eTag: etag.replaceAll('"', "") };
      if (versionId !== undefined) object.versionId = versionId;
      object.sequencer = sequencer;
      this.#send(c, {
        Records: [
          {
            eventVersion: "2.1",
            eventSource: "aws:s3",
            awsRegion: this.#region,
            eventTime,
            eventName,
            userIdentity: { principalId: REQUESTER_PRINCIPAL },
            requestParameters: { sourceIPAddress: "127.0.0.1" },
            responseElements: { "x-amz-request-id": reqId, "x-amz-id-2": id2 },
            s3: {
              s3SchemaVersion: "1.0",
              configurationId: c.id,
              bucket: { name: bucket, ownerIdentity: { principalId: OWNER_PRINCIPAL }, arn: `arn:aws:s3:::${bucket}` },
              object,
            },
          },
        ],
      });
    }
  }

  #send(config, message) {
    if (this.#deliver(config.queueArn, config.queueName, JSON.stringify(message))) this.#delivered += 1;
    else this.#undeliverable += 1;
  }
}
