// A small SQS client over the JSON protocol (the one fauxqs speaks), each
// request SigV4-signed with the environment's credentials as a real client
// signs it. Used by sqs-json.js and by the local Lambda's SQS event source
// mapping.
import { createHash, createHmac } from "node:crypto";

const hmac = (key, data) => createHmac("sha256", key).update(data, "utf8").digest();
const sha256 = (data) => createHash("sha256").update(data, "utf8").digest("hex");

export function signJsonRequest({ url, body, target, region, accessKey, secretKey, sessionToken }) {
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers = {
    "content-type": "application/x-amz-json-1.0",
    host: url.host,
    "x-amz-date": amzDate,
    "x-amz-target": target,
  };
  if (sessionToken) headers["x-amz-security-token"] = sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = [
    "POST",
    url.pathname || "/",
    "",
    ...names.map((n) => `${n}:${headers[n]}`),
    "",
    names.join(";"),
    sha256(body),
  ].join("\n");
  const scope = `${day}/${region}/sqs/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = ["sqs", "aws4_request"].reduce((k, part) => hmac(k, part), hmac(hmac(`AWS4${secretKey}`, day), region));
  const signature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}

export function credentialsFromEnv(env = process.env) {
  return {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    accessKey: env.AWS_ACCESS_KEY_ID || "test",
    secretKey: env.AWS_SECRET_ACCESS_KEY || "test",
    sessionToken: env.AWS_SESSION_TOKEN,
  };
}

// Sends one action; resolves to { ok, status, text }.
export async function sendSqsAction(endpoint, action, json, credentials = credentialsFromEnv()) {
  const url = new URL(endpoint);
  const headers = signJsonRequest({ url, body: json, target: `AmazonSQS.${action}`, ...credentials });
  delete headers.host;
  const res = await fetch(url, { method: "POST", headers, body: json });
  return { ok: res.ok, status: res.status, text: await res.text() };
}

export class SqsError extends Error {
  constructor(action, status, text) {
    let code = `HTTP ${status}`;
    try {
      code = String(JSON.parse(text).__type ?? code).split("#").pop();
    } catch {
      // not JSON: keep the status
    }
    super(`SQS ${action} failed: ${code}: ${text.slice(0, 300)}`);
    this.code = code;
  }
}

// Calls one action with a parameter object; resolves to the parsed answer,
// rejects with an SqsError on an error answer.
export async function callSqs(endpoint, action, params, credentials) {
  const answer = await sendSqsAction(endpoint, action, JSON.stringify(params), credentials);
  if (!answer.ok) throw new SqsError(action, answer.status, answer.text);
  return answer.text ? JSON.parse(answer.text) : {};
}
