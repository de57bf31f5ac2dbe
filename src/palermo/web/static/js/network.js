// Network explorer: fetch the filtered graph from the API, draw it with cytoscape.js, and on a click
// show the statements and exhibits behind the node or edge (from the explain endpoint).
(function () {
  "use strict";
  var app = document.getElementById("network-app");
  if (!app) { return; }
  var caseRef = app.dataset.case;
  var base = "/api/v1/cases/" + encodeURIComponent(caseRef);
  var palette = ["#0b5cad", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7d91", "#57606a"];
  var cy = null;

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) { el.className = cls; }
    return el;
  }

  function query() {
    var form = document.getElementById("network-filters");
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value !== "") { params.append(key, value); } });
    return params.toString();
  }

  function explain(id, label) {
    var box = document.getElementById("explain");
    box.replaceChildren(text("p", "Loading " + label + "…", "small muted"));
    fetch(base + "/explain/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        box.replaceChildren(text("h3", label));
        if (!res.ok) { box.appendChild(text("p", res.body.error ? res.body.error.message : "No explanation.", "small")); return; }
        var body = res.body;
        if (body.summary) { box.appendChild(text("p", body.summary, "small")); }
        var statements = body.statements || [];
        box.appendChild(text("p", statements.length + " statement(s) behind it", "small muted"));
        var list = document.createElement("ul");
        list.className = "small";
        statements.slice(0, 40).forEach(function (s) {
          var item = document.createElement("li");
          var where = "E" + s.evidence_id + " · " + (s.locator || "");
          item.appendChild(text("strong", where));
          var what = [s.table, s.identifier, s.name].filter(function (v) { return v; }).join(" · ");
          if (what) { item.appendChild(text("div", what)); }
          list.appendChild(item);
        });
        box.appendChild(list);
        if (body.sql && body.sql.length) {
          var details = document.createElement("details");
          details.appendChild(text("summary", "SQL that produced it"));
          details.appendChild(text("pre", [].concat(body.sql).join("\n\n"), "mono small"));
          box.appendChild(details);
        }
      })
      .catch(function () { box.replaceChildren(text("p", "Could not load the explanation.", "small")); });
  }

  function draw(data) {
    var elements = [];
    data.nodes.forEach(function (n) {
      elements.push({ data: { id: String(n.id), label: n.label || String(n.id), community: n.community,
        color: palette[(Number(n.community) || 0) % palette.length], size: 14 + Math.min(36, 200 * (Number(n.score) || 0)) } });
    });
    data.edges.forEach(function (e, i) {
      elements.push({ data: { id: "e:" + (e.id || i), eid: e.id, source: String(e.source), target: String(e.target),
        kind: e.kind, width: 1 + Math.min(6, Math.log(1 + (Number(e.weight) || 1))) } });
    });
    document.getElementById("network-count").textContent = "Showing " + data.nodes.length + " nodes and " +
      data.edges.length + " edges (the " + data.limit + " most central at most).";
    if (cy) { cy.destroy(); }
    cy = cytoscape({
      container: document.getElementById("cy"),
      elements: elements,
      style: [
        { selector: "node", style: { "background-color": "data(color)", "label": "data(label)", "font-size": 9,
          "width": "data(size)", "height": "data(size)", "color": "#1b1f24", "text-valign": "bottom", "text-margin-y": 2 } },
        { selector: "edge", style: { "width": "data(width)", "line-color": "#8c959f", "curve-style": "haystack", "opacity": 0.6 } },
        { selector: ":selected", style: { "border-width": 3, "border-color": "#f0b400", "line-color": "#f0b400", "opacity": 1 } }
      ],
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 60 }
    });
    cy.on("tap", "node", function (evt) { explain(evt.target.id(), "Node " + evt.target.data("label")); });
    cy.on("tap", "edge", function (evt) {
      var d = evt.target.data();
      explain(d.eid, "Edge " + d.kind + " " + d.source + " → " + d.target);
    });
  }

  function fillFacets(data) {
    document.querySelectorAll("select[data-facet]").forEach(function (select) {
      if (select.options.length > 1) { return; }
      (data[select.dataset.facet] || []).forEach(function (value) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        select.appendChild(option);
      });
    });
  }

  function load() {
    fetch(base + "/network?" + query(), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { document.getElementById("network-count").textContent = res.body.error.message; return; }
        fillFacets(res.body);
        draw(res.body);
      });
  }

  document.getElementById("network-filters").addEventListener("submit", function (evt) { evt.preventDefault(); load(); });
  load();
  // A small read-only handle for tests and power users: node ids and where a node is drawn.
  window.palermoNetwork = {
    nodes: function () { return cy ? cy.nodes().map(function (n) { return n.id(); }) : []; },
    position: function (id) {
      var n = cy && cy.getElementById(id);
      if (!n || !n.length) { return null; }
      var box = document.getElementById("cy").getBoundingClientRect();
      var p = n.renderedPosition();
      return { x: box.left + p.x, y: box.top + p.y };
    }
  };
})();
