// The admin endpoint: health, fault rules and their counters, notification
// configurations. JSON in, JSON out.
import http from "node:http";
import { readBody, sendJson } from "./http-util.js";

export function createAdminService({ faults, health, notifier }) {
  async function handle(req, res) {
    const url = new URL(req.url, "http://local");
    const parts = url.pathname.split("/").filter(Boolean);
    const method = req.method;

    if (parts.length === 1 && parts[0] === "health" && method === "GET") {
      const report = health();
      sendJson(res, report.ok ? 200 : 503, report);
      return;
    }
    if (parts[0] === "faults") {
      if (parts.length === 1) {
        if (method === "GET") return sendJson(res, 200, faults.list());
        if (method === "DELETE") {
          faults.clear();
          return sendJson(res, 200, faults.list());
        }
        if (method === "PUT" || method === "POST") {
          let parsed;
          try {
            parsed = JSON.parse((await readBody(req, 1024 * 1024)).toString("utf8"));
          } catch (err) {
            return sendJson(res, 400, { error: `body is not JSON: ${err.message}` });
          }
          try {
            if (method === "PUT") return sendJson(res, 200, faults.replace(parsed));
            return sendJson(res, 201, { rules: faults.add(parsed) });
          } catch (err) {
            return sendJson(res, 400, { error: err.message });
          }
        }
      } else if (parts.length === 2) {
        if (method === "GET") {
          const rule = faults.get(parts[1]);
          return rule ? sendJson(res, 200, rule) : sendJson(res, 404, { error: `no fault rule ${parts[1]}` });
        }
        if (method === "DELETE") {
          return faults.remove(parts[1]) ? sendJson(res, 200, { removed: parts[1] }) : sendJson(res, 404, { error: `no fault rule ${parts[1]}` });
        }
      }
      return sendJson(res, 405, { error: `${method} not allowed on ${url.pathname}` });
    }
    if (parts.length === 1 && parts[0] === "notifications" && method === "GET") {
      return sendJson(res, 200, { buckets: notifier.all(), ...notifier.stats() });
    }
    sendJson(res, 404, {
      error: `no such admin endpoint ${method} ${url.pathname}`,
      endpoints: [
        "GET /health",
        "GET|PUT|POST|DELETE /faults",
        "GET|DELETE /faults/ID",
        "GET /notifications",
      ],
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err.stack ?? err) });
      else res.destroy();
    });
  });
  return {
    server,
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
    },
  };
}
