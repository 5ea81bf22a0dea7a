// Learns about object creations inside fauxqs. fauxqs 1.9.2 reports to an
// optional "spy" on its S3 store (s3Store.spy.addMessage) synchronously from
// S3Store.putObject / completeMultipartUpload and from the CopyObject action:
//   PutObject:               {status: "uploaded"}
//   CopyObject:              {status: "uploaded"} then {status: "copied"}
//   CompleteMultipartUpload: {status: "uploaded"} (inside completeMultipartUpload)
// These are internals of the pinned version, so selfCheck() below drives all
// three through fauxqs' own HTTP routes at startup and the server refuses to
// start when the hook does not see them as expected.

export const HOOK_EVENTS = ["ObjectCreated:Put", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload"];

// Installs the hook; onCreated({bucket, key, size, etag, eventName}) is called
// once per created object, after the request's synchronous work is done.
export function installS3Hook(s3Store, onCreated) {
  let completing = 0;
  const pending = [];
  const originalComplete = s3Store.completeMultipartUpload;
  if (typeof originalComplete !== "function" || typeof s3Store.buckets?.get !== "function") {
    throw new Error("fauxqs S3Store lacks completeMultipartUpload/buckets: the notification hook cannot be installed");
  }
  s3Store.completeMultipartUpload = function completeMultipartUploadHooked(...args) {
    completing += 1;
    try {
      return originalComplete.apply(this, args);
    } finally {
      completing -= 1;
    }
  };
  const flush = () => {
    const batch = pending.splice(0);
    for (const event of batch) onCreated(event);
  };
  s3Store.spy = {
    addMessage(message) {
      if (message?.service !== "s3") return;
      if (message.status === "uploaded") {
        const stored = s3Store.buckets.get(message.bucket)?.get(message.key);
        if (!stored) return;
        pending.push({
          bucket: message.bucket,
          key: message.key,
          size: stored.contentLength,
          etag: stored.etag,
          eventName: completing > 0 ? "ObjectCreated:CompleteMultipartUpload" : "ObjectCreated:Put",
        });
        if (pending.length === 1) queueMicrotask(flush);
      } else if (message.status === "copied") {
        // The copy's own "uploaded" came just before, in the same call stack.
        const last = pending.findLast((e) => e.bucket === message.bucket && e.key === message.key);
        if (last) last.eventName = "ObjectCreated:Copy";
      }
    },
  };
}

// Drives PutObject, CopyObject and a multipart upload through the fastify app
// (app.inject, no socket) into a scratch bucket and checks that the hook
// reported each with the right event name, size and ETag.
export async function selfCheck(app, s3Store, observed) {
  const bucket = `localaws-self-check-${process.pid}-${Date.now()}`;
  const problems = [];
  const expect = (what, cond) => {
    if (!cond) problems.push(what);
  };
  const seen = [];
  observed.push((e) => {
    if (e.bucket === bucket) seen.push(e);
  });
  const call = async (opts) => {
    const res = await app.inject(opts);
    if (res.statusCode >= 300) problems.push(`${opts.method} ${opts.url} answered ${res.statusCode}: ${res.body}`);
    return res;
  };
  try {
    await call({ method: "PUT", url: `/${bucket}` });
    await call({ method: "PUT", url: `/${bucket}/put.txt`, payload: "hello", headers: { "content-type": "text/plain" } });
    await call({ method: "PUT", url: `/${bucket}/copy.txt`, headers: { "x-amz-copy-source": `/${bucket}/put.txt` } });
    const created = await call({ method: "POST", url: `/${bucket}/multi.txt?uploads` });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1];
    expect("CreateMultipartUpload returned an UploadId", uploadId);
    if (uploadId) {
      const part = await call({ method: "PUT", url: `/${bucket}/multi.txt?uploadId=${uploadId}&partNumber=1`, payload: "part-one" });
      const etag = part.headers.etag;
      await call({
        method: "POST",
        url: `/${bucket}/multi.txt?uploadId=${uploadId}`,
        payload: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`,
        headers: { "content-type": "application/xml" },
      });
    }
    await new Promise((r) => setImmediate(r));
    const byKey = Object.fromEntries(seen.map((e) => [e.key, e]));
    expect(`exactly three creations seen (saw ${seen.length})`, seen.length === 3);
    expect("PutObject reported as ObjectCreated:Put", byKey["put.txt"]?.eventName === "ObjectCreated:Put");
    expect("PutObject size and ETag", byKey["put.txt"]?.size === 5 && byKey["put.txt"]?.etag === '"5d41402abc4b2a76b9719d911017c592"');
    expect("CopyObject reported as ObjectCreated:Copy", byKey["copy.txt"]?.eventName === "ObjectCreated:Copy");
    expect(
      "CompleteMultipartUpload reported as ObjectCreated:CompleteMultipartUpload",
      byKey["multi.txt"]?.eventName === "ObjectCreated:CompleteMultipartUpload",
    );
    expect("multipart ETag ends in -1", /^"[0-9a-f]{32}-1"$/.test(byKey["multi.txt"]?.etag ?? ""));
  } finally {
    s3Store.emptyBucket?.(bucket);
    try {
      s3Store.deleteBucket(bucket);
    } catch (err) {
      problems.push(`cleanup: ${err.message}`);
    }
    observed.pop();
  }
  return { ok: problems.length === 0, problems };
}
