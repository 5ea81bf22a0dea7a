// DynamoDB: dynalite behind a front that injects faults. Every request is
// read whole (DynamoDB requests are small) so its table names can be matched
// and BatchWriteItem can be split into written and unprocessed items.
import http from "node:http";
import zlib from "node:zlib";
import { createRequire } from "node:module";
import { cutResponseAfter, invokeListener, readBody, requestId, sendBuffer } from "./http-util.js";

const require = createRequire(import.meta.url);
const dynalite = require("dynalite");

const PREFIX = "com.amazonaws.dynamodb.v20120810#";
const ERRORS = {
  ProvisionedThroughputExceededException: [
    400,
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
  ],
  ThrottlingException: [400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."],
  RequestThrottled: [400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."],
  SlowDown: [400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."],
  http500: [500, "InternalServerError", "Internal server error"],
  http503: [503, "ServiceUnavailableException", "Service is unavailable. Please try again."],
};

// DynamoDB clients check the body against this header.
function sendDynamoJson(res, status, value, extraHeaders = {}) {
  const body = Buffer.from(JSON.stringify(value));
  sendBuffer(
    res,
    status,
    {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-crc32": String(zlib.crc32(body)),
      "x-amzn-requestid": requestId(),
      ...extraHeaders,
    },
    body,
  );
}

function tablesOf(body) {
  if (!body || typeof body !== "object") return [];
  const names = [];
  if (typeof body.TableName === "string") names.push(body.TableName);
  if (body.RequestItems && typeof body.RequestItems === "object") names.push(...Object.keys(body.RequestItems));
  return names;
}

// Moves the last ceil(fraction * n) write requests of each affected table out
// of RequestItems; returns them in the UnprocessedItems shape.
function splitUnprocessed(body, fraction, onlyTable) {
  const unprocessed = {};
  for (const [table, requests] of Object.entries(body.RequestItems ?? {})) {
    if (onlyTable !== undefined && table !== onlyTable) continue;
    if (!Array.isArray(requests) || requests.length === 0) continue;
    const count = Math.min(requests.length, Math.ceil(fraction * requests.length));
    if (count === 0) continue;
    unprocessed[table] = requests.slice(requests.length - count);
    const kept = requests.slice(0, requests.length - count);
    if (kept.length > 0) body.RequestItems[table] = kept;
    else delete body.RequestItems[table];
  }
  return unprocessed;
}

export function createDynamoDbService({ faults, logger, dataPath, createTableMs = 0 }) {
  const inner = dynalite({
    path: dataPath,
    createTableMs,
    deleteTableMs: createTableMs,
    updateTableMs: createTableMs,
  });
  const listener = inner.listeners("request")[0];

  async function handle(req, res) {
    const raw = await readBody(req, 16 * 1024 * 1024 + 1);
    const operation = (req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    let body;
    try {
      body = raw.length > 0 ? JSON.parse(raw.toString("utf8")) : undefined;
    } catch {
      body = undefined;
    }
    const forward = { method: req.method, url: req.url, headers: req.headers, body: raw };
    const rule = req.method === "POST" ? faults.pick({ service: "dynamodb", operation, targets: tablesOf(body), agent: req.headers["user-agent"] }) : undefined;
    let unprocessed = {};
    switch (rule?.effect) {
      case "stall_ms":
        await new Promise((r) => setTimeout(r, rule.stall_ms));
        if (rule.drop) {
          req.socket.destroy();
          return;
        }
        break;
      case "cut_after_bytes":
        cutResponseAfter(res, rule.cut_after_bytes);
        break;
      case "error": {
        const [status, code, message] = ERRORS[rule.error];
        sendDynamoJson(res, status, { __type: PREFIX + code, message });
        return;
      }
      case "unprocessed":
        if (operation === "BatchWriteItem" && body?.RequestItems) {
          unprocessed = splitUnprocessed(body, rule.unprocessed, rule.target);
          if (Object.keys(body.RequestItems).length === 0) {
            sendDynamoJson(res, 200, { UnprocessedItems: unprocessed });
            return;
          }
          forward.body = Buffer.from(JSON.stringify(body));
        }
        break;
      default:
        break;
    }
    const answer = await invokeListener(listener, forward);
    let out = answer.body;
    if (Object.keys(unprocessed).length > 0 && answer.status === 200) {
      const merged = JSON.parse(out.toString("utf8"));
      merged.UnprocessedItems = { ...(merged.UnprocessedItems ?? {}) };
      for (const [table, requests] of Object.entries(unprocessed)) {
        merged.UnprocessedItems[table] = [...(merged.UnprocessedItems[table] ?? []), ...requests];
      }
      out = Buffer.from(JSON.stringify(merged));
      answer.headers["x-amz-crc32"] = String(zlib.crc32(out));
    }
    const headers = { ...answer.headers };
    delete headers["content-length"];
    sendBuffer(res, answer.status, headers, out);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      logger(`dynamodb: ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) sendDynamoJson(res, 500, { __type: PREFIX + "InternalServerError", message: String(err.message ?? err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      await new Promise((r) => inner.close(() => r()));
    },
  };
}
