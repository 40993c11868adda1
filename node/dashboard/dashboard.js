/* dashboard.js - the node's dashboard: reads the read-only API and
 * renders it.  No framework, no build step. */
"use strict";

function $(id) { return document.getElementById(id); }

function short(h) { return h ? h.slice(0, 12) + "\u2026" : ""; }

function units(micro) { return (micro / 1e6).toFixed(6); }

function cell(tr, text, cls) {
  var td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function empty(tbody, cols, text) {
  var tr = document.createElement("tr");
  var td = cell(tr, text, "muted");
  td.colSpan = cols;
  tbody.appendChild(tr);
}

function get(path) {
  return fetch(path, { cache: "no-store" }).then(function (r) {
    return r.json().then(function (j) {
      if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
      return j;
    });
  });
}

function showNode() {
  return get("/api/v1/status").then(function (s) {
    $("node").textContent = "node " + short(s.node) + " \u00b7 peers " +
      s.peers_active + " active / " + s.peers_known + " known \u00b7 " +
      (s.ledger ? "ledger height " + s.ledger.height : "no ledger") +
      " \u00b7 up " + Math.round(s.uptime_ms / 1000) + " s";
  }).catch(function (e) { $("node").textContent = "status: " + e.message; });
}

function showUtil(series) {
  var svg = $("util");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var n = series.length || 1, w = 480 / n;
  series.forEach(function (u, i) {
    var h = Math.max(0, Math.min(1, u)) * 116;
    var r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    r.setAttribute("x", (i * w + 1).toFixed(1));
    r.setAttribute("y", (118 - h).toFixed(1));
    r.setAttribute("width", Math.max(1, w - 2).toFixed(1));
    r.setAttribute("height", h.toFixed(1));
    var t = document.createElementNS("http://www.w3.org/2000/svg", "title");
    t.textContent = (u * 100).toFixed(1) + " %";
    r.appendChild(t);
    svg.appendChild(r);
  });
}

function card(label, value) {
  var d = document.createElement("div");
  d.className = "card";
  d.appendChild(document.createTextNode(label));
  var b = document.createElement("b");
  b.textContent = value;
  d.appendChild(b);
  return d;
}

function showAsset(id) {
  $("asset-detail").hidden = false;
  $("asset-id").textContent = id;
  Array.prototype.forEach.call($("assets").tBodies[0].rows, function (tr) {
    tr.className = tr.dataset.id === id ? "sel" : "";
  });
  get("/api/v1/assets/" + id + "/report?bucket=3600&buckets=24")
    .then(function (r) {
      var f = $("figures");
      f.textContent = "";
      f.appendChild(card("utilization", (r.utilization * 100).toFixed(2) + " %"));
      f.appendChild(card("revenue", units(r.revenue_micro)));
      f.appendChild(card("GPU-hours sold", r.gpu_hours_sold.toFixed(2)));
      f.appendChild(card("revenue / GPU-hour", r.revenue_per_gpu_hour === null
        ? "\u2014" : r.revenue_per_gpu_hour.toFixed(6)));
      f.appendChild(card("leases open", String(r.leases_open)));
      f.appendChild(card("proofs", String(r.proofs)));
      showUtil(r.utilization_series);
    }).catch(function (e) { $("figures").textContent = e.message; });
  get("/api/v1/assets/" + id).then(function (a) {
    var tb = $("holders").tBodies[0];
    tb.textContent = "";
    a.lots.forEach(function (l) {
      var tr = document.createElement("tr");
      cell(tr, l.holder, "id");
      cell(tr, String(l.amount), "num");
      cell(tr, (l.share * 100).toFixed(2) + " %", "num");
      cell(tr, units(l.earned_total), "num");
      cell(tr, units(l.accrued), "num");
      tb.appendChild(tr);
    });
    if (!a.lots.length) empty(tb, 5, "no share lots");
  });
}

function showAssets() {
  return get("/api/v1/assets").then(function (j) {
    var tb = $("assets").tBodies[0];
    tb.textContent = "";
    j.assets.forEach(function (a) {
      var tr = document.createElement("tr");
      tr.dataset.id = a.id;
      cell(tr, a.id, "id");
      cell(tr, a.hw);
      cell(tr, String(a.supply), "num");
      cell(tr, units(a.pool.paid_in), "num");
      cell(tr, units(a.pool.balance), "num");
      tr.addEventListener("click", function () { showAsset(a.id); });
      tb.appendChild(tr);
    });
    if (!j.assets.length) empty(tb, 5, "no assets registered");
    else showAsset(j.assets[0].id);
  }).catch(function (e) { $("assets-note").textContent = e.message; });
}

function showLeases() {
  return get("/api/v1/leases?state=active&limit=50").then(function (j) {
    var tb = $("leases").tBodies[0];
    tb.textContent = "";
    j.leases.forEach(function (l) {
        var tr = document.createElement("tr");
        cell(tr, short(l.lease), "id");
        cell(tr, short(l.asset), "id");
        cell(tr, l.hours.toFixed(2), "num");
        cell(tr, units(l.price), "num");
        cell(tr, new Date(l.expiry * 1000).toISOString());
        tb.appendChild(tr);
      });
    if (!tb.rows.length) empty(tb, 5, "no open leases");
  }).catch(function (e) { empty($("leases").tBodies[0], 5, e.message); });
}

function showProofs() {
  return get("/api/v1/proofs?limit=20").then(function (j) {
    var tb = $("proofs").tBodies[0];
    tb.textContent = "";
    j.proofs.forEach(function (p) {
      var tr = document.createElement("tr");
      cell(tr, short(p.proof), "id");
      cell(tr, short(p.lease), "id");
      cell(tr, String(p.tokens), "num");
      cell(tr, (p.device_ns / 1e9).toFixed(3), "num");
      var v = p.verification;
      var ok = v.signature && v.certified && v.in_log;
      cell(tr, ok ? "verified: signature, certificate, log #" + p.log_index
        : "signature does not verify", ok ? "ok" : "bad");
      tb.appendChild(tr);
    });
    if (!j.proofs.length) empty(tb, 5, "no proofs recorded");
  }).catch(function (e) { empty($("proofs").tBodies[0], 5, e.message); });
}

function refresh() {
  Promise.all([showNode(), showAssets(), showLeases(), showProofs()])
    .then(function () { document.body.dataset.loaded = "1"; });
}

refresh();
setInterval(showNode, 10000);
