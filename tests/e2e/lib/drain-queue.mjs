#!/usr/bin/env node
// Reads every message of one SQS queue over the JSON protocol and prints each
// as one JSON line (MessageId, Body, Attributes...). Independent of
// salesflow's own SQS client, and one process for the whole queue (a CLI call
// per receive is far slower). A long visibility timeout makes each message
// come once; it stops after two empty receives in a row, or fails after
// --max-receives calls. Messages are not deleted.
//   drain-queue.mjs --endpoint URL --queue NAME [--max-receives N] [--visibility S]
// Requests are SigV4-signed with the environment's credentials, as
// tools/localaws/sqs-json.js signs them.
import { createHash, createHmac } from "node:crypto";

const hmac = (key, data) => createHmac("sha256", key).update(data, "utf8").digest();
const sha256 = (data) => createHash("sha256").update(data, "utf8").digest("hex");

function signedHeaders(url, body, target) {
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
  const accessKey = process.env.AWS_ACCESS_KEY_ID || "test";
  const secretKey = process.env.AWS_SECRET_ACCESS_KEY || "test";
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers = {
    "content-type": "application/x-amz-json-1.0",
    host: url.host,
    "x-amz-date": amzDate,
    "x-amz-target": target,
  };
  const names = Object.keys(headers).sort();
  const canonical = ["POST", url.pathname || "/", "", ...names.map((n) => `${n}:${headers[n]}`), "",
    names.join(";"), sha256(body)].join("\n");
  const scope = `${day}/${region}/sqs/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = ["sqs", "aws4_request"].reduce((k, part) => hmac(k, part),
    hmac(hmac(`AWS4${secretKey}`, day), region));
  const signature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${signature}`;
  delete headers.host;
  return headers;
}

async function call(url, action, request) {
  const body = JSON.stringify(request);
  const res = await fetch(url, { method: "POST", headers: signedHeaders(url, body, `AmazonSQS.${action}`), body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${action} answered HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

async function main(argv) {
  const options = { endpoint: process.env.AWS_ENDPOINT_URL_SQS, queue: "", maxReceives: 5000, visibility: 900 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--endpoint") options.endpoint = argv[++i];
    else if (argv[i] === "--queue") options.queue = argv[++i];
    else if (argv[i] === "--max-receives") options.maxReceives = Number(argv[++i]);
    else if (argv[i] === "--visibility") options.visibility = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.endpoint || !options.queue) throw new Error("needs --endpoint and --queue");
  const url = new URL(options.endpoint);
  const queueUrl = `${options.endpoint.replace(/\/$/, "")}/000000000000/${options.queue}`;
  let empty = 0;
  for (let calls = 0; empty < 2; calls++) {
    if (calls >= options.maxReceives) throw new Error(`more than ${options.maxReceives} receives`);
    const answer = await call(url, "ReceiveMessage", {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: options.visibility,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
    });
    const messages = answer.Messages ?? [];
    empty = messages.length === 0 ? empty + 1 : 0;
    for (const message of messages) process.stdout.write(JSON.stringify(message) + "\n");
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`drain-queue: ${err.message}\n`);
    process.exit(1);
  },
);
