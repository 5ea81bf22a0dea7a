// Small HTTP helpers shared by the fronts of the emulated services.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";

export function readBody(req, limit = 64 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// Runs a plain Node request listener (as dynalite exports one) on a request
// whose body was already read, and collects what it answers. This is how a
// request is rewritten on its way in and its answer rewritten on its way out
// without a second socket.
export function invokeListener(listener, { method, url, headers, body }) {
  return new Promise((resolve) => {
    const fakeReq = Readable.from(body.length > 0 ? [body] : []);
    fakeReq.method = method;
    fakeReq.url = url;
    fakeReq.headers = { ...headers, "content-length": String(body.length) };
    const outHeaders = new Map();
    const chunks = [];
    const fakeRes = {
      statusCode: 200,
      headersSent: false,
      setHeader(name, value) {
        outHeaders.set(name.toLowerCase(), value);
      },
      getHeader(name) {
        return outHeaders.get(name.toLowerCase());
      },
      hasHeader(name) {
        return outHeaders.has(name.toLowerCase());
      },
      removeHeader(name) {
        outHeaders.delete(name.toLowerCase());
      },
      writeHead(status, headers) {
        this.statusCode = status;
        for (const [k, v] of Object.entries(headers ?? {})) this.setHeader(k, v);
        return this;
      },
      write(chunk) {
        if (chunk !== undefined) chunks.push(Buffer.from(chunk));
        return true;
      },
      end(chunk) {
        if (chunk !== undefined && chunk !== null) chunks.push(Buffer.from(chunk));
        this.headersSent = true;
        resolve({ status: this.statusCode, headers: Object.fromEntries(outHeaders), body: Buffer.concat(chunks) });
      },
    };
    listener(fakeReq, fakeRes);
  });
}

export function sendBuffer(res, status, headers, body) {
  const out = { ...headers, "content-length": String(body.length) };
  res.writeHead(status, out);
  res.end(body);
}

export function sendJson(res, status, value, contentType = "application/json") {
  sendBuffer(res, status, { "content-type": contentType }, Buffer.from(JSON.stringify(value)));
}

export function requestId() {
  return randomBytes(8).toString("hex").toUpperCase();
}

export function hostId() {
  return randomBytes(48).toString("base64");
}

export function xmlEscape(s) {
  return String(s)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

export function xmlUnescape(s) {
  return s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}

export function s3ErrorXml(code, message, resource = "") {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code>` +
      `<Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource>` +
      `<RequestId>${requestId()}</RequestId><HostId>${hostId()}</HostId></Error>`,
  );
}

export function sendS3Error(res, status, code, message, resource = "") {
  sendBuffer(res, status, { "content-type": "application/xml", "x-amz-request-id": requestId() }, s3ErrorXml(code, message, resource));
}

// Lets the response through until `limit` body bytes were written, then
// destroys the socket: the client sees complete headers (with the full
// Content-Length) and a short body, as when a connection breaks mid-transfer.
export function cutResponseAfter(res, limit, onCut) {
  let written = 0;
  let cut = false;
  const origWrite = res.write.bind(res);
  const origEnd = res.end.bind(res);
  const cutNow = () => {
    if (cut) return;
    cut = true;
    onCut?.();
    // Let what was written reach the socket before it is torn down.
    res.socket?.end();
    setTimeout(() => res.socket?.destroy(), 50).unref();
  };
  const take = (chunk, encoding) => {
    if (chunk === undefined || chunk === null || typeof chunk === "function") return undefined;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8");
    const room = Math.max(0, limit - written);
    const part = buf.subarray(0, room);
    written += part.length;
    return { part, truncated: part.length < buf.length };
  };
  res.write = (chunk, encoding, cb) => {
    if (cut) return false;
    const t = take(chunk, encoding);
    if (!t) return origWrite(chunk, encoding, cb);
    if (t.part.length > 0 || !res.headersSent) origWrite(t.part);
    if (t.truncated || written >= limit) cutNow();
    return true;
  };
  res.end = (chunk, encoding, cb) => {
    if (cut) return res;
    const t = take(chunk, encoding);
    if (t && t.truncated) {
      origWrite(t.part);
      cutNow();
      return res;
    }
    return origEnd(t ? t.part : chunk, typeof encoding === "string" ? encoding : undefined, cb);
  };
}
