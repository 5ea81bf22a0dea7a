// salesflow console: the DLQ's rejects at a glance, one envelope with its
// reasons marked in the record, an editor the server revalidates as you type,
// and Replay / Discard with the same semantics as `salesflow dlq replay` and
// `salesflow dlq discard`. No framework, no network beyond this server.
"use strict";

const state = { token: "", session: {}, envelopes: [], current: null, timer: 0, seq: 0 };
const $ = (id) => document.getElementById(id);

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Salesflow-Token": state.token },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

// ---- JSON with exact numbers: a small parser that keeps every number's text
// (JSON.parse would round 12345678901234567890123), for showing records.
function parseExact(text) {
  let at = 0;
  const fail = (what) => { throw new Error(`${what} at byte ${at}`); };
  const space = () => { while (at < text.length && " \t\r\n".includes(text[at])) at++; };
  const value = () => {
    space();
    const c = text[at];
    if (c === "{") {
      at++; const members = []; space();
      if (text[at] === "}") { at++; return { type: "object", members }; }
      for (;;) {
        space(); if (text[at] !== '"') fail("expected a member name");
        const name = string(); space();
        if (text[at++] !== ":") fail("expected ':'");
        members.push([name, value()]); space();
        if (text[at] === ",") { at++; continue; }
        if (text[at++] === "}") return { type: "object", members };
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      at++; const items = []; space();
      if (text[at] === "]") { at++; return { type: "array", items }; }
      for (;;) {
        items.push(value()); space();
        if (text[at] === ",") { at++; continue; }
        if (text[at++] === "]") return { type: "array", items };
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { type: "string", text: JSON.stringify(string()) };
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(at, at + 400));
    if (!m) fail("unexpected character");
    at += m[0].length;
    return { type: "literal", text: m[0] };
  };
  const string = () => {
    const start = at++;
    while (at < text.length && text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
    if (at >= text.length) fail("unterminated string");
    at++;
    return JSON.parse(text.slice(start, at));
  };
  const result = value(); space();
  if (at !== text.length) fail("text after the value");
  return result;
}

const pointer = (path, name) => `${path}/${String(name).replace(/~/g, "~0").replace(/\//g, "~1")}`;

// The record as indented JSON, each member whose path a reason names marked,
// and a line for every reason that names a member that is not there.
function renderRecord(node, reasons) {
  const byPath = new Map();
  for (const r of reasons) byPath.set(r.path, [...(byPath.get(r.path) || []), r]);
  const seen = new Set();
  const mark = (path, html) => {
    const here = byPath.get(path);
    if (!here) return html;
    seen.add(path);
    const title = here.map((r) => `${r.code}: ${r.message}`).join("\n");
    return `<span class="marked" data-path="${escapeHtml(path)}" title="${escapeHtml(title)}">${html}</span>`;
  };
  const walk = (n, path, indent) => {
    const pad = "  ".repeat(indent + 1);
    if (n.type === "object") {
      const names = new Set(n.members.map(([k]) => k));
      const lines = n.members.map(([k, v]) => pad + mark(pointer(path, k), `${escapeHtml(JSON.stringify(k))}: ${walk(v, pointer(path, k), indent + 1)}`));
      for (const [p, rs] of byPath) {
        const parent = p.slice(0, p.lastIndexOf("/"));
        const name = p.slice(p.lastIndexOf("/") + 1).replace(/~1/g, "/").replace(/~0/g, "~");
        if (parent === path && !names.has(name) && p !== path) {
          seen.add(p);
          lines.push(`${pad}<span class="missing" data-path="${escapeHtml(p)}">← ${escapeHtml(JSON.stringify(name))}: ${escapeHtml(rs.map((r) => r.message).join("; "))}</span>`);
        }
      }
      return lines.length ? `{\n${lines.join(",\n")}\n${"  ".repeat(indent)}}` : "{}";
    }
    if (n.type === "array") {
      const lines = n.items.map((v, i) => pad + mark(pointer(path, i), walk(v, pointer(path, i), indent + 1)));
      return lines.length ? `[\n${lines.join(",\n")}\n${"  ".repeat(indent)}]` : "[]";
    }
    return escapeHtml(n.text);
  };
  const html = walk(node, "", 0);
  return byPath.has("") ? mark("", html) : html;
}

// The record indented, every token's text as it was: the editor's start.
function prettyExact(node, indent = 0) {
  const pad = "  ".repeat(indent + 1);
  const end = "  ".repeat(indent);
  if (node.type === "object") {
    if (!node.members.length) return "{}";
    return `{\n${node.members.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${prettyExact(v, indent + 1)}`).join(",\n")}\n${end}}`;
  }
  if (node.type === "array") {
    if (!node.items.length) return "[]";
    return `[\n${node.items.map((v) => pad + prettyExact(v, indent + 1)).join(",\n")}\n${end}]`;
  }
  return node.text;
}

function editableText(raw) {
  try {
    return prettyExact(parseExact(raw));
  } catch (error) {
    return raw;  // not JSON: the text as it is, for the person to repair
  }
}

function showRecordInto(element, text, reasons) {
  try {
    element.innerHTML = renderRecord(parseExact(text), reasons);
  } catch (error) {
    element.textContent = text;  // not JSON: the text as it is
  }
}

// ---- overview and list

function placeOf(e) {
  if (e.kind === "file_fault") return `bytes ${e.fault?.begin}..${e.fault?.end}`;
  return e.record?.line ? `record ${e.record.index} (line ${e.record.line})` : `record ${e.record?.index}`;
}
const sourceOf = (e) => `s3://${e.source.bucket}/${e.source.key}`;
const codesOf = (e) => [...new Set((e.reasons || []).map((r) => r.code))];

function bars(element, counts, onPick) {
  const entries = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  element.innerHTML = entries.map(([label, n]) =>
    `<div class="bar" data-label="${escapeHtml(label)}"><span class="label" title="${escapeHtml(label)}">${escapeHtml(label)}</span>` +
    `<span class="fill" data-share="${(100 * n) / max}"></span><span class="count">${n}</span></div>`).join("") || "<em>none</em>";
  // Widths through the CSSOM: the policy refuses style attributes in markup.
  for (const fill of element.querySelectorAll(".fill")) fill.style.width = `${fill.dataset.share}%`;
  for (const bar of element.querySelectorAll(".bar")) bar.addEventListener("click", () => onPick(bar.dataset.label));
}

function renderOverview(listing) {
  const byReason = new Map();
  const bySource = new Map();
  for (const e of state.envelopes) {
    for (const code of codesOf(e)) byReason.set(code, (byReason.get(code) || 0) + 1);
    bySource.set(sourceOf(e), (bySource.get(sourceOf(e)) || 0) + 1);
  }
  let summary = `<strong id="count">${state.envelopes.length}</strong> rejected records in <code>${escapeHtml(state.session.dlq)}</code>`;
  if (listing.repeats) summary += ` (${listing.repeats} repeated messages collapsed)`;
  if (!listing.whole_queue) summary += " — more in the queue than one page shows";
  $("summary").innerHTML = summary;
  bars($("by-reason"), byReason, (code) => { $("filter-reason").value = code; renderList(); });
  bars($("by-source"), bySource, (source) => { $("filter-source").value = source; renderList(); });
  const select = $("filter-reason");
  const chosen = select.value;
  select.innerHTML = '<option value="">any</option>' + [...byReason.keys()].sort().map((c) => `<option>${escapeHtml(c)}</option>`).join("");
  select.value = byReason.has(chosen) ? chosen : "";
}

function filtered() {
  const reason = $("filter-reason").value;
  const source = $("filter-source").value.trim();
  const text = $("filter-text").value.trim().toLowerCase();
  return state.envelopes.filter((e) =>
    (!reason || codesOf(e).includes(reason)) &&
    (!source || sourceOf(e).startsWith(source)) &&
    (!text || (e.id + " " + sourceOf(e) + " " + (e.raw || "")).toLowerCase().includes(text)));
}

function renderList() {
  const rows = filtered();
  $("shown").textContent = `${rows.length} of ${state.envelopes.length} shown`;
  $("envelopes").querySelector("tbody").innerHTML = rows.slice(0, 1000).map((e) =>
    `<tr data-id="${escapeHtml(e.id)}"><td class="mono">${escapeHtml(e.id.slice(0, 12))}</td>` +
    `<td class="mono">${escapeHtml(sourceOf(e))}</td><td>${escapeHtml(placeOf(e))}</td>` +
    `<td>${codesOf(e).map((c) => `<span class="code">${escapeHtml(c)}</span>`).join("")}</td>` +
    `<td class="excerpt">${escapeHtml((e.raw ?? "(not UTF-8: raw_base64)").slice(0, 200))}</td></tr>`).join("");
  for (const row of $("envelopes").querySelectorAll("tbody tr")) row.addEventListener("click", () => openEnvelope(row.dataset.id));
}

async function load() {
  $("summary").textContent = "Reading the DLQ…";
  const listing = await api("/api/envelopes");
  state.envelopes = listing.envelopes;
  renderOverview(listing);
  renderList();
}

// ---- one envelope

function openEnvelope(id) {
  const e = state.envelopes.find((x) => x.id === id);
  if (!e) return;
  state.current = e;
  $("detail").hidden = false;
  $("detail-id").textContent = e.id;
  $("detail-meta").textContent = `${sourceOf(e)} · ${placeOf(e)} · rejected ${e.timestamp}`;
  $("detail-reasons").innerHTML = (e.reasons || []).map((r) =>
    `<li><span class="code">${escapeHtml(r.code)}</span> <code>${escapeHtml(r.path || "/")}</code> ${escapeHtml(r.message)}</li>`).join("");
  showRecordInto($("detail-raw"), e.raw ?? "", e.reasons || []);
  $("edit-mode").textContent = e.value !== undefined ? "(the record as JSON)" : "(the raw text: it is not JSON)";
  $("editor").value = editableText(e.raw ?? "");
  $("outcome").textContent = "";
  $("outcome").className = "outcome";
  $("discard").disabled = false;
  $("detail").scrollIntoView({ behavior: "instant", block: "start" });
  revalidate();
}

function revalidate() {
  clearTimeout(state.timer);
  state.timer = setTimeout(validateNow, 150);
}

async function validateNow() {
  const e = state.current;
  if (!e) return;
  const seq = ++state.seq;
  let verdict;
  try {
    verdict = await api("/api/validate", { id: e.id, raw: $("editor").value });
  } catch (error) {
    verdict = { valid: false, reasons: [{ code: "error", path: "", message: error.message }] };
  }
  if (seq !== state.seq) return;  // an older answer
  const box = $("verdict");
  box.className = `verdict ${verdict.valid ? "valid" : "invalid"}`;
  box.innerHTML = verdict.valid
    ? "<strong>valid</strong> — Replay writes this item and then deletes the DLQ message"
    : `<strong>still invalid</strong><ul>${(verdict.reasons || []).map((r) =>
      `<li><span class="code">${escapeHtml(r.code)}</span> <code>${escapeHtml(r.path || "/")}</code> ${escapeHtml(r.message)}</li>`).join("")}</ul>`;
  box.dataset.valid = String(verdict.valid);
  if (verdict.item) showRecordInto($("item"), verdict.item, []);
  else $("item").textContent = "(none: the record is not valid)";
  $("replay").disabled = !verdict.valid;
}

function settle(id, message) {
  state.envelopes = state.envelopes.filter((x) => x.id !== id);
  renderOverview({ repeats: 0, whole_queue: true });
  renderList();
  $("outcome").className = "outcome good";
  $("outcome").textContent = message;
  $("replay").disabled = true;
  $("discard").disabled = true;
}

async function replay() {
  const e = state.current;
  $("replay").disabled = true;
  try {
    const result = await api("/api/replay", { id: e.id, raw: $("editor").value });
    if (result.status === "replayed" || result.status === "already_replayed") {
      settle(e.id, `${result.status}: written to ${state.session.table}, DLQ message deleted`);
      return;
    }
    $("outcome").className = "outcome bad";
    $("outcome").textContent = `${result.status}${result.detail ? ": " + result.detail : ""} — the message stays in the DLQ`;
  } catch (error) {
    $("outcome").className = "outcome bad";
    $("outcome").textContent = `replay failed: ${error.message} — the message stays in the DLQ`;
  }
  revalidate();
}

async function discard() {
  const e = state.current;
  const reason = $("discard-reason").value.trim();
  if (!reason) {
    $("outcome").className = "outcome bad";
    $("outcome").textContent = "say why the record is discarded: it goes into the audit file";
    return;
  }
  try {
    const result = await api("/api/discard", { id: e.id, reason });
    if (result.status === "discarded") {
      settle(e.id, `discarded; the envelope is kept in ${state.session.audit}`);
      return;
    }
    $("outcome").className = "outcome bad";
    $("outcome").textContent = `${result.status}${result.detail ? ": " + result.detail : ""}`;
  } catch (error) {
    $("outcome").className = "outcome bad";
    $("outcome").textContent = `discard failed: ${error.message}`;
  }
}

async function start() {
  state.session = await api("/api/session");
  state.token = state.session.token;
  $("where").textContent = `DLQ ${state.session.dlq} → table ${state.session.table} · ${state.session.region}`;
  for (const id of ["filter-reason", "filter-source", "filter-text"]) $(id).addEventListener("input", renderList);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("refresh").addEventListener("click", () => load().catch(showError));
  $("close").addEventListener("click", () => { $("detail").hidden = true; state.current = null; });
  $("editor").addEventListener("input", revalidate);
  $("replay").addEventListener("click", replay);
  $("discard").addEventListener("click", discard);
  await load();
}

function showError(error) {
  $("summary").textContent = `The DLQ cannot be read: ${error.message}`;
}

document.addEventListener("DOMContentLoaded", () => start().catch(showError));
