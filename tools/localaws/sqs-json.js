#!/usr/bin/env node
// Calls one SQS action over the JSON protocol (the one fauxqs speaks; Debian's
// aws CLI 2.9 still speaks the query protocol). The request is SigV4-signed
// with the environment's credentials, as a real client would sign it.
//   sqs-json.js ACTION [JSON]     e.g. sqs-json.js CreateQueue '{"QueueName":"q"}'
// Endpoint: --endpoint URL, else $AWS_ENDPOINT_URL_SQS, else http://127.0.0.1:4566.
// Prints the response body; exits 0 on 2xx, 1 on an error answer, 2 on bad use.
import { createHash, createHmac } from "node:crypto";

const hmac = (key, data) => createHmac("sha256", key).update(data, "utf8").digest();
const sha256 = (data) => createHash("sha256").update(data, "utf8").digest("hex");

function sign({ url, body, target, region, accessKey, secretKey, sessionToken }) {
  const now = new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
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

async function main(argv) {
  let endpoint = process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL || "http://127.0.0.1:4566";
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--endpoint") endpoint = argv[++i];
    else args.push(argv[i]);
  }
  if (args.length < 1 || args.length > 2) {
    process.stderr.write("usage: sqs-json.js [--endpoint URL] ACTION [JSON]\n");
    return 2;
  }
  const [action, json = "{}"] = args;
  try {
    JSON.parse(json);
  } catch (err) {
    process.stderr.write(`sqs-json: request is not JSON: ${err.message}\n`);
    return 2;
  }
  const url = new URL(endpoint);
  const headers = sign({
    url,
    body: json,
    target: `AmazonSQS.${action}`,
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1",
    accessKey: process.env.AWS_ACCESS_KEY_ID || "test",
    secretKey: process.env.AWS_SECRET_ACCESS_KEY || "test",
    sessionToken: process.env.AWS_SESSION_TOKEN,
  });
  delete headers.host;
  const res = await fetch(url, { method: "POST", headers, body: json });
  const text = await res.text();
  process.stdout.write(text + (text.endsWith("\n") ? "" : "\n"));
  if (!res.ok) process.stderr.write(`sqs-json: ${action} answered HTTP ${res.status}\n`);
  return res.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`sqs-json: ${err.message}${err.cause ? `: ${err.cause.message}` : ""}\n`);
    process.exit(1);
  },
);
