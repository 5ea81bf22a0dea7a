// The Lambda API of the local Lambda: Invoke (RequestResponse, Event,
// DryRun), the event source mapping calls, and GET /status for tests.
// Error answers carry x-amzn-ErrorType and {"Type","message"} bodies as
// Lambda's REST-JSON protocol does.
import http from "node:http";
import { readBody, sendBuffer, sendJson } from "./http-util.js";
import { Throttled } from "./lambda-function.js";
import { MAX_PAYLOAD_BYTES } from "./lambda-environment.js";
import { MappingError, SqsEventSourceMapping } from "./lambda-sqs.js";

const ASYNC_PAYLOAD_BYTES = 256 * 1024;

function lambdaError(res, status, type, message, extra = {}) {
  const body = Buffer.from(JSON.stringify({ Type: status >= 500 ? "Service" : "User", message, ...extra }));
  sendBuffer(res, status, { "content-type": "application/json", "x-amzn-errortype": type }, body);
}

// The function a FunctionName (name, full or partial ARN, maybe with a
// qualifier) and Qualifier name, or null.
function resolveFunction(fn, given, qualifier) {
  let name = given;
  let qual = qualifier;
  const arn = /^(?:arn:aws:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9_-]+)(?::([$A-Za-z0-9_-]+))?$/.exec(given);
  if (arn) {
    name = arn[1];
    qual = qual ?? arn[2];
  }
  if (name !== fn.name) return null;
  if (qual !== undefined && qual !== null && qual !== "$LATEST") return null;
  return { invokedArn: qual ? `${fn.arn}:${qual}` : fn.arn };
}

export function createLambdaApi({ fn, region, sqsEndpoint, logger, mappings }) {
  const tailOf = (lines) => {
    const text = Buffer.from(lines.join("\n") + (lines.length ? "\n" : ""));
    return text.subarray(Math.max(0, text.length - 4096)).toString("base64");
  };

  async function invoke(req, res, functionName, url) {
    const target = resolveFunction(fn, functionName, url.searchParams.get("Qualifier") ?? undefined);
    if (!target) {
      const qualifier = url.searchParams.get("Qualifier");
      return lambdaError(res, 404, "ResourceNotFoundException", `Function not found: ${fn.arn.replace(fn.name, functionName)}${qualifier ? `:${qualifier}` : ""}`);
    }
    const type = req.headers["x-amz-invocation-type"] ?? "RequestResponse";
    let payload;
    try {
      payload = await readBody(req, MAX_PAYLOAD_BYTES * 2);
    } catch {
      return lambdaError(res, 413, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
    }
    if (payload.length === 0) payload = Buffer.from("{}");
    if (!["RequestResponse", "Event", "DryRun"].includes(type)) {
      return lambdaError(res, 400, "InvalidParameterValueException", `Unsupported invocation type: ${type}`);
    }
    if (type === "RequestResponse" && payload.length > 6291456) {
      return lambdaError(res, 413, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
    }
    if (type === "Event" && payload.length > ASYNC_PAYLOAD_BYTES) {
      return lambdaError(res, 413, "RequestTooLargeException", `Request must be smaller than ${ASYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    }
    try {
      JSON.parse(payload.toString("utf8"));
    } catch (err) {
      return lambdaError(res, 400, "InvalidRequestContentException", `Could not parse request body into json: ${err.message}`);
    }
    let clientContext;
    if (req.headers["x-amz-client-context"] !== undefined) {
      clientContext = Buffer.from(req.headers["x-amz-client-context"], "base64").toString("utf8");
    }
    if (type === "DryRun") return sendBuffer(res, 204, {}, Buffer.alloc(0));
    if (type === "Event") {
      const requestId = fn.runAsync(payload, { invokedArn: target.invokedArn, clientContext });
      return sendBuffer(res, 202, { "x-amzn-requestid": requestId }, Buffer.alloc(0));
    }
    let result;
    try {
      result = await fn.run(payload, { wait: false, invokedArn: target.invokedArn, clientContext });
    } catch (err) {
      if (err instanceof Throttled) {
        return lambdaError(res, 429, "TooManyRequestsException", "Rate Exceeded.", { Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
      }
      throw err;
    }
    const headers = {
      "content-type": "application/json",
      "x-amzn-requestid": result.requestId,
      "x-amz-executed-version": "$LATEST",
    };
    if (req.headers["x-amz-log-type"] === "Tail") headers["x-amz-log-result"] = tailOf(result.logLines);
    if (!result.ok) headers["x-amz-function-error"] = "Unhandled";
    return sendBuffer(res, 200, headers, result.body);
  }

  async function jsonBody(req) {
    const text = (await readBody(req, 1024 * 1024)).toString("utf8");
    try {
      return text ? JSON.parse(text) : {};
    } catch (err) {
      throw new MappingError(`body is not JSON: ${err.message}`, "InvalidRequestContentException");
    }
  }

  function findMapping(uuid) {
    const m = mappings.get(uuid);
    if (!m) throw new MappingError(`The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: ${uuid})`, "ResourceNotFoundException");
    return m;
  }

  async function eventSourceMappings(req, res, uuid, url) {
    if (uuid === undefined && req.method === "POST") {
      const body = await jsonBody(req);
      if (!body.FunctionName || !resolveFunction(fn, body.FunctionName)) {
        throw new MappingError(`Function does not exist: ${body.FunctionName}`, "ResourceNotFoundException");
      }
      const { FunctionName: _f, EventSourceArn, ...settings } = body;
      const mapping = new SqsEventSourceMapping({ fn, eventSourceArn: EventSourceArn, sqsEndpoint, region, settings, logger });
      mappings.set(mapping.uuid, mapping);
      logger(`event source mapping ${mapping.uuid} created: ${EventSourceArn}`);
      return sendJson(res, 202, { ...mapping.describe(), State: "Creating" });
    }
    if (uuid === undefined && req.method === "GET") {
      const source = url.searchParams.get("EventSourceArn");
      const name = url.searchParams.get("FunctionName");
      const list = [...mappings.values()].filter(
        (m) => (!source || m.eventSourceArn === source) && (!name || resolveFunction(fn, name)),
      );
      return sendJson(res, 200, { EventSourceMappings: list.map((m) => m.describe()) });
    }
    if (uuid !== undefined) {
      const mapping = findMapping(uuid);
      if (req.method === "GET") return sendJson(res, 200, mapping.describe());
      if (req.method === "PUT") {
        const { FunctionName: _f, ...settings } = await jsonBody(req);
        mapping.update(settings);
        logger(`event source mapping ${uuid} updated: ${JSON.stringify(mapping.settings)}`);
        return sendJson(res, 202, mapping.describe());
      }
      if (req.method === "DELETE") {
        mappings.delete(uuid);
        const described = { ...mapping.describe(), State: "Deleting" };
        await mapping.remove();
        logger(`event source mapping ${uuid} deleted`);
        return sendJson(res, 202, described);
      }
    }
    return lambdaError(res, 405, "MethodNotAllowed", `${req.method} not allowed`);
  }

  function status() {
    return {
      pid: process.pid,
      functions: { [fn.name]: fn.status() },
      event_source_mappings: [...mappings.values()].map((m) => m.status()),
    };
  }

  async function handle(req, res) {
    const url = new URL(req.url, "http://local");
    const path = url.pathname;
    const invokePath = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(path);
    if (invokePath && req.method === "POST") return invoke(req, res, decodeURIComponent(invokePath[1]), url);
    const esm = /^\/2015-03-31\/event-source-mappings\/?([^/]*)\/?$/.exec(path);
    if (esm) {
      try {
        return await eventSourceMappings(req, res, esm[1] ? decodeURIComponent(esm[1]) : undefined, url);
      } catch (err) {
        if (!(err instanceof MappingError)) throw err;
        return lambdaError(res, err.type === "ResourceNotFoundException" ? 404 : 400, err.type, err.message);
      }
    }
    if (path === "/status" && req.method === "GET") return sendJson(res, 200, status());
    return lambdaError(res, 404, "UnknownOperationException", `no such operation ${req.method} ${path}`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      logger(`api: ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) lambdaError(res, 500, "ServiceException", String(err.message ?? err));
      else res.destroy();
    });
  });
  return { server, status };
}
