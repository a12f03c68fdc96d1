"""The service's page for people (`GET /`): sign in with the token, see every batch's progress (done of
requested, rate, elapsed, ETA, failures by reason, the newest contact sheets), cancel one, submit a config.

One self-contained HTML file: no framework, nothing fetched from elsewhere (it works offline and behind a
firewall). It talks to the same JSON API as every other client, sending the token as a bearer header; the
token stays in the tab's session storage.
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SynthAct manager</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } table { border-collapse: collapse; margin-top: 1em; }
th, td { padding: .35em .7em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
progress { width: 9em; } img.preview { height: 72px; margin-right: 4px; border: 1px solid #ccc; }
#message { color: #b00; min-height: 1.4em; } .muted { color: #777; } textarea { width: 40em; height: 8em; }
</style></head>
<body>
<h1>SynthAct manager</h1>
<p class="muted">Batches rendered by this service. <a href="/docs">API</a> · <a href="/health">health</a></p>
<form id="login">
  <label>Token <input id="token" type="password" autocomplete="off" size="48"></label>
  <button id="signin" type="submit">Sign in</button>
  <button id="signout" type="button" hidden>Sign out</button>
</form>
<p id="message" role="status"></p>
<section id="batches" hidden>
<table><thead><tr><th>batch</th><th>state</th><th>progress</th><th>rate</th><th>elapsed</th><th>ETA</th>
<th>failed</th><th>newest previews</th><th></th></tr></thead><tbody id="rows"></tbody></table>
<h2>Submit a batch</h2>
<form id="submit"><textarea id="config" placeholder="batch: {name: my_batch, count: 100}"></textarea><br>
<button type="submit">Submit</button></form>
</section>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("synthact-token") || "";
const previews = {};  // path -> object URL (images need the token, so they are fetched, not linked)

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers, {Authorization: "Bearer " + token});
  const answer = await fetch(path, Object.assign({}, options, {headers}));
  if (answer.status === 401) { signOut("The token was not accepted."); throw new Error("401"); }
  return answer;
}
function clock(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(s); const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
  return h + ":" + String(m).padStart(2, "0") + ":" + String(r).padStart(2, "0");
}
function cell(row, cls, text) {
  const td = document.createElement("td"); td.className = cls; td.textContent = text; row.appendChild(td); return td;
}
async function image(batch, path) {
  const key = batch + "/" + path;
  if (!previews[key]) {
    const answer = await api("/batches/" + batch + "/files/" + path);
    previews[key] = URL.createObjectURL(await answer.blob());
  }
  return previews[key];
}
async function render() {
  const names = (await (await api("/batches")).json()).batches;
  const rows = [];
  for (const name of names) {
    const s = await (await api("/batches/" + name)).json();
    const row = document.createElement("tr"); row.dataset.batch = name;
    cell(row, "name", name);
    cell(row, "state", s.state + (s.reason ? " (" + s.reason + ")" : "") + (s.error ? ": " + s.error : ""));
    const settled = s.done + s.failed, total = s.requested || 0;
    const bar = cell(row, "done", settled + " / " + (total || "?") + " ");
    const meter = document.createElement("progress"); meter.max = total || 1; meter.value = settled;
    bar.prepend(meter);
    cell(row, "rate", s.rate_per_min ? s.rate_per_min.toFixed(1) + " clips/min" : "–");
    cell(row, "elapsed", clock(s.elapsed_s));
    cell(row, "eta", s.state === "running" ? clock(s.eta_s) : "–");
    const reasons = Object.entries(s.failure_reasons || {}).map(([k, v]) => k + " " + v).join(", ");
    cell(row, "failed", s.failed ? s.failed + " (" + reasons + ")" : "0");
    const pics = cell(row, "previews", "");
    for (const path of s.previews || []) {
      const img = document.createElement("img"); img.className = "preview"; img.alt = path;
      img.src = await image(name, path); pics.appendChild(img);
    }
    const actions = cell(row, "actions", "");
    if (s.state === "running" || s.state === "queued") {
      const cancel = document.createElement("button"); cancel.className = "cancel"; cancel.textContent = "Cancel";
      cancel.onclick = async () => {
        const answer = await api("/batches/" + name + "/cancel", {method: "POST"});
        $("message").textContent = answer.ok ? "Cancelling " + name + "." : (await answer.json()).detail;
        refresh();
      };
      actions.appendChild(cancel);
    }
    rows.push(row);
  }
  $("rows").replaceChildren(...rows);
}
let timer = null;
async function refresh() {
  if (!token) return;
  try { await render(); $("batches").hidden = false; }
  catch (e) { if (e.message !== "401") $("message").textContent = String(e); }
}
function signOut(why) {
  token = ""; sessionStorage.removeItem("synthact-token"); clearInterval(timer); timer = null;
  $("batches").hidden = true; $("signout").hidden = true; $("message").textContent = why || "";
}
async function signIn(given) {
  token = given; sessionStorage.setItem("synthact-token", token); $("message").textContent = "";
  $("signout").hidden = false; await refresh(); if (token && !timer) timer = setInterval(refresh, 3000);
}
$("login").onsubmit = (e) => { e.preventDefault(); signIn($("token").value.trim()); };
$("signout").onclick = () => signOut("Signed out.");
$("submit").onsubmit = async (e) => {
  e.preventDefault();
  const answer = await api("/batches", {method: "POST", body: $("config").value,
                                         headers: {"Content-Type": "application/yaml"}});
  const body = await answer.json();
  $("message").textContent = answer.ok ? "Submitted " + body.batch + " (" + body.state + ")."
    : (body.problems ? body.problems.map((p) => p.text).join("; ") : body.detail);
  refresh();
};
if (token) signIn(token);
</script>
</body></html>
"""
