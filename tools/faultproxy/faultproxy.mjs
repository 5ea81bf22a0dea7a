#!/usr/bin/env node
// A TCP fault proxy for chaos runs: listens on loopback ports and forwards
// each connection to a target port, with one behaviour per connection chosen
// at random (a seeded generator, so a run can be repeated):
//   pass      bytes forwarded untouched
//   reset     the response is cut with a TCP RST after a random number of its bytes
//   stall     the response is held back for a random time, then flows normally
//   slow      the response trickles in small chunks with pauses
//   latency   every chunk in both directions is delayed by a fixed amount
// Node's standard library only.
//
//   faultproxy.mjs --route LISTEN:TARGET [--route ...] [--seed N] [--mix pass=0.6,reset=0.1,...]
//                 [--stats-file F]
// Prints "READY seed=N routes=..." when every route listens. Counts of the
// behaviours chosen (and of resets really sent) go to --stats-file as JSON on
// SIGTERM/SIGINT and every second.
import net from "node:net";
import { writeFileSync } from "node:fs";

// The local stack's seeded generator: one PRNG for every seeded fault draw.
import { seededRandom } from "../localaws/lib/faults.js";

const MODES = ["pass", "reset", "stall", "slow", "latency"];

function parseArgs(argv) {
  const args = { routes: [], seed: null, mix: { pass: 0.6, reset: 0.1, stall: 0.1, slow: 0.1, latency: 0.1 }, statsFile: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--route") {
      const m = /^(\d+):(\d+)$/.exec(value);
      if (!m) throw new Error(`--route LISTEN:TARGET, got ${value}`);
      args.routes.push({ listen: Number(m[1]), target: Number(m[2]) });
    } else if (flag === "--seed") {
      if (!/^\d+$/.test(value)) throw new Error(`--seed takes a non-negative integer, got ${value}`);
      args.seed = Number(value) >>> 0;
    } else if (flag === "--mix") {
      const mix = Object.fromEntries(MODES.map((m) => [m, 0]));
      for (const part of value.split(",")) {
        const [name, weight] = part.split("=");
        if (!MODES.includes(name) || !(Number(weight) >= 0)) throw new Error(`bad --mix part ${part}`);
        mix[name] = Number(weight);
      }
      if (Object.values(mix).reduce((a, b) => a + b, 0) <= 0) throw new Error("--mix weights sum to 0");
      args.mix = mix;
    } else if (flag === "--stats-file") {
      args.statsFile = value;
    } else {
      throw new Error(`unknown option ${flag}`);
    }
  }
  if (args.routes.length === 0) throw new Error("at least one --route LISTEN:TARGET");
  if (args.seed === null) args.seed = Math.floor(Math.random() * 2 ** 31);
  return args;
}

function choose(random, mix) {
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  let x = random() * total;
  for (const mode of MODES) {
    x -= mix[mode];
    if (x < 0) return mode;
  }
  return "pass";
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Forwards chunks from `from` to `to` one at a time through `shape`, which
// may delay, split or cut them; backpressure is kept by pausing `from`.
function pipeShaped(from, to, shape) {
  const queue = [];
  let busy = false;
  const drainQueue = async () => {
    if (busy) return;
    busy = true;
    while (queue.length > 0) {
      const chunk = queue.shift();
      if (chunk === null) {
        if (!to.destroyed) to.end();
        break;
      }
      const go = await shape(chunk);
      if (go === false || to.destroyed) break;
    }
    busy = false;
    if (queue.length === 0 && !from.destroyed) from.resume();
  };
  from.on("data", (chunk) => {
    queue.push(chunk);
    from.pause();
    drainQueue();
  });
  from.on("end", () => {
    queue.push(null);
    drainQueue();
  });
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`faultproxy: ${error.message}`);
    process.exit(2);
  }
  const random = seededRandom(args.seed);
  const stats = { seed: args.seed, connections: 0, chosen: Object.fromEntries(MODES.map((m) => [m, 0])), resets_sent: 0 };
  const writeStats = () => {
    if (args.statsFile) writeFileSync(args.statsFile, JSON.stringify(stats) + "\n");
  };

  const handle = (client, target) => {
    const mode = choose(random, args.mix);
    // Drawn now, in connection order, so the same seed gives the same plan.
    const resetAfter = Math.floor(random() * 4096);
    const stallMs = 500 + Math.floor(random() * 4500);
    const latencyMs = 20 + Math.floor(random() * 180);
    const slowChunk = 1024 * (1 + Math.floor(random() * 4));
    stats.connections += 1;
    stats.chosen[mode] += 1;
    const upstream = net.connect({ host: "127.0.0.1", port: target });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", closeBoth);
    upstream.on("error", closeBoth);
    // A client gone ends the exchange; an upstream that closes cleanly ends
    // the client only after the shaped (possibly delayed) bytes are out.
    client.on("close", () => upstream.destroy());

    const forward = async (chunk) => {
      if (mode === "latency") await sleep(latencyMs);
      return client.destroyed ? false : (client.write(chunk), true);
    };
    const request = async (chunk) => {
      if (mode === "latency") await sleep(latencyMs);
      if (!upstream.destroyed) upstream.write(chunk);
      return true;
    };
    let sent = 0;
    let stalled = false;
    const response = async (chunk) => {
      if (mode === "reset") {
        if (sent + chunk.length > resetAfter) {
          if (resetAfter > sent) client.write(chunk.subarray(0, resetAfter - sent));
          stats.resets_sent += 1;
          client.resetAndDestroy();
          upstream.destroy();
          return false;
        }
        sent += chunk.length;
        return forward(chunk);
      }
      if (mode === "stall" && !stalled) {
        stalled = true;
        await sleep(stallMs);
      }
      if (mode === "slow") {
        for (let offset = 0; offset < chunk.length; offset += slowChunk) {
          if (client.destroyed) return false;
          client.write(chunk.subarray(offset, offset + slowChunk));
          await sleep(5);
        }
        return true;
      }
      return forward(chunk);
    };
    pipeShaped(client, upstream, request);
    pipeShaped(upstream, client, response);
  };

  let listening = 0;
  for (const route of args.routes) {
    const server = net.createServer((client) => handle(client, route.target));
    server.on("error", (error) => {
      console.error(`faultproxy: port ${route.listen}: ${error.message}`);
      process.exit(1);
    });
    server.listen(route.listen, "127.0.0.1", () => {
      listening += 1;
      if (listening === args.routes.length) {
        const routes = args.routes.map((r) => `${r.listen}->${r.target}`).join(",");
        console.log(`READY seed=${args.seed} routes=${routes}`);
      }
    });
  }
  const timer = setInterval(writeStats, 1000);
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      clearInterval(timer);
      writeStats();
      process.exit(0);
    });
  }
}

main();
