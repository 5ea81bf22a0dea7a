// S3 and SQS on one port: fauxqs 1.9.2 behind a front that adds bucket
// notifications, lenient queue URLs and fault injection.
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cutResponseAfter, readBody, requestId, sendBuffer, sendJson, sendS3Error } from "./http-util.js";
import { Notifier, S3NotificationError, notificationXml, parseNotificationXml } from "./notifications.js";
import { installS3Hook, selfCheck } from "./s3hook.js";

// fauxqs exports only buildApp; its stores and the SendMessage action are
// loaded from the same files buildApp uses (the version is pinned exactly).
async function loadFauxqs() {
  const entry = path.dirname(fileURLToPath(import.meta.resolve("fauxqs")));
  const load = (rel) => import(pathToFileURL(path.join(entry, rel)).href);
  const [app, s3, sqs, sns, send] = await Promise.all([
    load("app.js"),
    load("s3/s3Store.js"),
    load("sqs/sqsStore.js"),
    load("sns/snsStore.js"),
    load("sqs/actions/sendMessage.js"),
  ]);
  return {
    buildApp: app.buildApp,
    S3Store: s3.S3Store,
    SqsStore: sqs.SqsStore,
    SnsStore: sns.SnsStore,
    sendMessage: send.sendMessage,
  };
}

const SQS_ERRORS = {
  ThrottlingException: [400, "ThrottlingException", "Rate exceeded", "ThrottlingException;Sender"],
  ProvisionedThroughputExceededException: [400, "ThrottlingException", "Rate exceeded", "ThrottlingException;Sender"],
  SlowDown: [400, "ThrottlingException", "Rate exceeded", "ThrottlingException;Sender"],
  RequestThrottled: [403, "RequestThrottled", "Request is throttled.", "RequestThrottled;Sender"],
  http500: [500, "InternalError", "We encountered an internal error. Please try again.", "InternalError;Receiver"],
  http503: [503, "ServiceUnavailable", "Service is unavailable. Please try again.", "ServiceUnavailable;Receiver"],
};

const S3_ERRORS = {
  http500: [500, "InternalError", "We encountered an internal error. Please try again."],
  http503: [503, "ServiceUnavailable", "Service is unavailable. Please try again."],
};
const S3_SLOWDOWN = [503, "SlowDown", "Please reduce your request rate."];

// Which S3 API a request is, and its bucket and key (path-style or
// virtual-hosted style, as fauxqs accepts both).
export function classifyS3(method, rawUrl, headers) {
  const url = new URL(rawUrl, "http://local");
  const q = url.searchParams;
  let segments = url.pathname.split("/").slice(1);
  const hostname = (headers.host ?? "").split(":")[0];
  if (hostname.includes(".") && !/^\d+\.\d+\.\d+\.\d+$/.test(hostname)) {
    segments = [hostname.slice(0, hostname.indexOf(".")), ...segments];
  }
  const bucket = decodeURIComponent(segments[0] ?? "");
  const key = segments.length > 1 ? decodeURIComponent(segments.slice(1).join("/")) : "";
  const copy = headers["x-amz-copy-source"] !== undefined;
  let operation;
  if (!bucket) operation = method === "GET" ? "ListBuckets" : "Unknown";
  else if (!key) {
    if (q.has("notification")) operation = { PUT: "PutBucketNotificationConfiguration", GET: "GetBucketNotificationConfiguration" }[method];
    else if (q.has("versioning")) operation = { PUT: "PutBucketVersioning", GET: "GetBucketVersioning" }[method];
    else
      operation = {
        PUT: "CreateBucket",
        HEAD: "HeadBucket",
        GET: q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects",
        DELETE: "DeleteBucket",
        POST: "DeleteObjects",
      }[method];
  } else if (method === "PUT") {
    if (q.has("uploadId") && q.has("partNumber")) operation = copy ? "UploadPartCopy" : "UploadPart";
    else operation = copy ? "CopyObject" : "PutObject";
  } else if (method === "POST") operation = q.has("uploads") ? "CreateMultipartUpload" : q.has("uploadId") ? "CompleteMultipartUpload" : "DeleteObjects";
  else if (method === "DELETE") operation = q.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
  else operation = { GET: "GetObject", HEAD: "HeadObject" }[method];
  return { operation: operation ?? "Unknown", bucket, key };
}

function isSqsRequest(req) {
  const target = req.headers["x-amz-target"] ?? "";
  return req.method === "POST" && (target.startsWith("AmazonSQS.") || (req.headers["content-type"] ?? "").includes("x-amz-json-1.0"));
}

function queueNameFromUrl(queueUrl) {
  try {
    const parts = new URL(queueUrl).pathname.split("/").filter(Boolean);
    return parts[parts.length - 1];
  } catch {
    return undefined;
  }
}

export async function createS3SqsService({ region, faults, logger, hookDisabled = false }) {
  const fauxqs = await loadFauxqs();
  const s3Store = new fauxqs.S3Store();
  const sqsStore = new fauxqs.SqsStore();
  const snsStore = new fauxqs.SnsStore();
  // An empty host makes fauxqs build queue URLs from the request's Host
  // header (http://127.0.0.1:PORT/000000000000/NAME), which resolve anywhere.
  sqsStore.host = "";
  const app = fauxqs.buildApp({ logger: false, defaultRegion: region, stores: { s3Store, sqsStore, snsStore } });
  sqsStore.host = "";

  const deliver = (queueArn, queueName, body) => {
    const queue = sqsStore.getQueueByArn(queueArn) ?? sqsStore.getQueueByName(queueName);
    if (!queue) {
      logger(`notification for ${queueArn} dropped: queue does not exist`);
      return false;
    }
    fauxqs.sendMessage({ QueueUrl: queue.url, MessageBody: body }, sqsStore);
    return true;
  };
  const queueExists = (queueArn, queueName) => Boolean(sqsStore.getQueueByArn(queueArn) ?? sqsStore.getQueueByName(queueName));
  const notifier = new Notifier({ region, deliver });
  const observers = [];
  if (!hookDisabled) {
    installS3Hook(s3Store, (event) => {
      for (const observe of observers) observe(event);
      notifier.objectCreated(event);
    });
  }
  await app.ready();
  const hookCheck = await selfCheck(app, s3Store, observers);

  async function handleNotificationApi(req, res, operation, bucket) {
    if (!s3Store.hasBucket(bucket)) {
      sendS3Error(res, 404, "NoSuchBucket", "The specified bucket does not exist", bucket);
      return;
    }
    if (operation === "GetBucketNotificationConfiguration") {
      sendBuffer(res, 200, { "content-type": "application/xml", "x-amz-request-id": requestId() }, Buffer.from(notificationXml(notifier.get(bucket))));
      return;
    }
    const body = (await readBody(req)).toString("utf8");
    try {
      notifier.put(bucket, parseNotificationXml(body, region), queueExists);
    } catch (err) {
      if (!(err instanceof S3NotificationError)) throw err;
      sendS3Error(res, err.status, err.code, err.message, bucket);
      return;
    }
    sendBuffer(res, 200, { "x-amz-request-id": requestId() }, Buffer.alloc(0));
  }

  function handleVersioningApi(req, res, operation, bucket) {
    if (!s3Store.hasBucket(bucket)) {
      sendS3Error(res, 404, "NoSuchBucket", "The specified bucket does not exist", bucket);
      return;
    }
    if (operation === "PutBucketVersioning") {
      req.resume();
      sendS3Error(res, 501, "NotImplemented", "Bucket versioning is not supported by the local stack", bucket);
      return;
    }
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`;
    sendBuffer(res, 200, { "content-type": "application/xml" }, Buffer.from(xml));
  }

  async function handleS3(req, res) {
    const { operation, bucket, key } = classifyS3(req.method, req.url, req.headers);
    const agent = req.headers["user-agent"];
    const rule = faults.pick({ service: "s3", operation, targets: [bucket], key, agent });
    if (rule && !(await applyCommonFault(rule, req, res, "s3"))) return;
    if (operation.endsWith("NotificationConfiguration")) return handleNotificationApi(req, res, operation, bucket);
    if (operation.endsWith("BucketVersioning")) return handleVersioningApi(req, res, operation, bucket);
    if (operation === "DeleteBucket") {
      res.on("finish", () => {
        if (res.statusCode < 300) notifier.forgetBucket(bucket);
      });
    }
    app.routing(req, res);
  }

  async function handleSqs(req, res) {
    const raw = await readBody(req);
    const operation = (req.headers["x-amz-target"] ?? "").replace(/^AmazonSQS\./, "");
    let body;
    try {
      body = JSON.parse(raw.toString("utf8") || "{}");
    } catch {
      body = undefined;
    }
    const targets = [];
    if (body && typeof body === "object") {
      if (typeof body.QueueUrl === "string") {
        const name = queueNameFromUrl(body.QueueUrl);
        if (name) targets.push(name);
        // SQS accepts any URL form of a queue; fauxqs only the exact one it made.
        const queue = name ? sqsStore.getQueueByName(name) : undefined;
        if (queue) body.QueueUrl = queue.url;
      }
      if (typeof body.QueueName === "string") targets.push(body.QueueName);
    }
    const rule = faults.pick({ service: "sqs", operation, targets, agent: req.headers["user-agent"] });
    if (rule && !(await applyCommonFault(rule, req, res, "sqs"))) return;
    const headers = { ...req.headers };
    delete headers["content-length"];
    delete headers["transfer-encoding"];

    let failed = [];
    if (rule?.effect === "failed_entries" && operation === "SendMessageBatch" && Array.isArray(body?.Entries)) {
      const entries = body.Entries;
      const failCount = Math.min(entries.length, Math.ceil(rule.failed_entries * entries.length));
      failed = entries.slice(entries.length - failCount).map((e) => ({
        Id: e.Id,
        SenderFault: false,
        Code: "InternalError",
        Message: "Injected fault: entry not enqueued",
      }));
      body.Entries = entries.slice(0, entries.length - failCount);
      if (body.Entries.length === 0) {
        sendJson(res, 200, { Successful: [], Failed: failed }, "application/x-amz-json-1.0");
        return;
      }
    }
    const answer = await app.inject({ method: "POST", url: req.url, headers, payload: body === undefined ? raw : JSON.stringify(body) });
    let out = answer.rawPayload;
    if (failed.length > 0 && answer.statusCode === 200) {
      const merged = JSON.parse(out.toString("utf8"));
      merged.Failed = [...(merged.Failed ?? []), ...failed];
      out = Buffer.from(JSON.stringify(merged));
    }
    const outHeaders = {};
    for (const [k, v] of Object.entries(answer.headers)) {
      if (!["content-length", "transfer-encoding", "connection", "keep-alive", "date"].includes(k)) outHeaders[k] = v;
    }
    sendBuffer(res, answer.statusCode, outHeaders, out);
  }

  // Applies the effects every service shares. Returns true when the request
  // should go on to the emulator (stall without drop, cut_after_bytes, and
  // the batch effects that the caller applies itself).
  async function applyCommonFault(rule, req, res, service) {
    switch (rule.effect) {
      case "stall_ms":
        await new Promise((r) => setTimeout(r, rule.stall_ms));
        if (rule.drop) {
          req.socket.destroy();
          return false;
        }
        return true;
      case "cut_after_bytes":
        cutResponseAfter(res, rule.cut_after_bytes);
        return true;
      case "error":
        req.resume();
        if (service === "s3") {
          const [status, code, message] = S3_ERRORS[rule.error] ?? S3_SLOWDOWN;
          sendS3Error(res, status, code, message);
        } else {
          const [status, code, message, queryError] = SQS_ERRORS[rule.error];
          sendBuffer(
            res,
            status,
            { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": queryError, "x-amzn-requestid": requestId() },
            Buffer.from(JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message })),
          );
        }
        return false;
      default:
        return true;
    }
  }

  const server = http.createServer((req, res) => {
    const handle = isSqsRequest(req) ? handleSqs : handleS3;
    handle(req, res).catch((err) => {
      logger(`s3-sqs: ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) sendS3Error(res, 500, "InternalError", String(err.message ?? err));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    hookCheck,
    notifier,
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      await app.close();
    },
  };
}

