// All leads: instant filter and sort. The table is complete without this script (one page, or pages linked
// from each other); the script only chooses and orders rows. On one page the rows are the page's own (their
// data- attributes); when the table spans pages, leads-data.js (loaded before this, works from file://) holds
// every lead, and a filter or sort shows matching rows from all pages, built with textContent only.
// The address may preselect filters: leads.html#status=active&stage=offer (the board links so),
// leads.html#attention=due (the overview's follow-ups; "stale": its stale leads).
(function () {
  "use strict";
  var table = document.getElementById("lead-table");
  var form = document.getElementById("lead-filters");
  if (!table || !form) { return; }
  var STEP = 500;  // rows added per "Show more"
  var body = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var pageRows = Array.prototype.slice.call(body.rows);
  var data = window.funnelLeads;
  var records = data ? data.rows.map(fromData) : pageRows.map(fromRow);
  var count = document.getElementById("lead-count");
  var noMatch = document.getElementById("no-match");
  var more = document.getElementById("show-more");
  var pagers = Array.prototype.slice.call(document.querySelectorAll(".pager"));
  var controls = Array.prototype.slice.call(form.querySelectorAll("[data-filter]")).filter(function (control) {
    // a pipeline's own rows template written before the attention filter: its rows cannot be filtered so
    var unknown = control.getAttribute("data-filter") === "attention" && !data && pageRows.length > 0 &&
      !pageRows[0].hasAttribute("data-attention");
    if (unknown) { control.parentNode.hidden = true; }
    return !unknown;
  });
  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });
  var sorted = null;  // records in the chosen column's order, or null for the table's own order
  var limit = STEP;

  function fromRow(row) {
    var tags;
    try { tags = JSON.parse(row.getAttribute("data-tags") || "[]"); } catch (e) { tags = []; }
    return {
      row: row, cells: null, tags: tags,
      text: row.textContent.replace(/\s+/g, " ").toLowerCase(),
      status: row.getAttribute("data-status"), stage: row.getAttribute("data-stage"),
      owner: row.getAttribute("data-owner"), source: row.getAttribute("data-source"),
      attention: (row.getAttribute("data-attention") || "").split(" "),
      keys: Array.prototype.map.call(row.cells, function (cell) { return cell.getAttribute("data-sort") || ""; })
    };
  }

  function fromData(item) {
    var filters = item[0];
    var cells = item[1];
    var words = [];
    cells.forEach(function (cell) {
      cell.slice(1).forEach(function (node) { words.push(typeof node === "string" ? node : node[2]); });
    });
    return {
      row: null, cells: cells, tags: filters[4],
      text: words.join(" ").replace(/\s+/g, " ").toLowerCase(),
      status: filters[0], stage: filters[1], owner: filters[2], source: filters[3], attention: filters[5] || [],
      keys: cells.map(function (cell) { return String(cell[0]); })
    };
  }

  function build(record) {
    var row = document.createElement("tr");
    record.cells.forEach(function (cell, column) {
      var element = document.createElement(column === 0 ? "th" : "td");
      if (column === 0) { element.setAttribute("scope", "row"); }
      if (headers[column].classList.contains("num")) { element.className = "num"; }
      element.setAttribute("data-sort", String(cell[0]));
      cell.slice(1).forEach(function (node) {
        if (typeof node === "string") { element.appendChild(document.createTextNode(node)); return; }
        var child = document.createElement(node[0] === "a" ? "a" : "span");
        if (node[0] === "a") { child.setAttribute("href", node[1]); } else { child.className = node[1]; }
        child.textContent = node[2];
        element.appendChild(child);
      });
      row.appendChild(element);
    });
    return row;
  }

  function matches(record) {
    return controls.every(function (control) {
      var wanted = control.value;
      if (!wanted) { return true; }
      var key = control.getAttribute("data-filter");
      if (key === "text") { return record.text.indexOf(wanted.trim().toLowerCase()) !== -1; }
      if (key === "tag") { return record.tags.indexOf(wanted) !== -1; }
      if (key === "attention") { return record.attention.indexOf(wanted) !== -1; }
      return record[key] === wanted;
    });
  }

  function show(rows) {
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.textContent = "";
    body.appendChild(fragment);
  }

  function update() {
    var filtering = controls.some(function (control) { return control.value; });
    var found = (sorted || records).filter(matches);
    count.textContent = count.getAttribute("data-template")
      .replace("{shown}", String(found.length)).replace("{total}", String(records.length));
    noMatch.hidden = found.length !== 0;
    if (data && !filtering && !sorted) {  // nothing chosen: this page of the table, as without the script
      show(pageRows);
      more.hidden = true;
      pagers.forEach(function (pager) { pager.hidden = false; });
      return;
    }
    var shown = data ? found.slice(0, limit) : found;
    show(shown.map(function (record) { return record.row || (record.row = build(record)); }));
    if (more) { more.hidden = shown.length === found.length; }
    pagers.forEach(function (pager) { pager.hidden = true; });
  }

  function sortBy(header, column) {
    var type = header.getAttribute("data-type");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (cell) { cell.setAttribute("aria-sort", "none"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var keyed = records.map(function (record, index) {
      var raw = record.keys[column];
      return { record: record, index: index, key: type === "number" ? parseFloat(raw) : raw };
    });
    keyed.sort(function (a, b) {
      var order = type === "number" ? a.key - b.key : collator.compare(a.key, b.key);
      if (type !== "number" && (a.key === "") !== (b.key === "")) { return a.key === "" ? 1 : -1; }
      return (ascending ? order : -order) || a.index - b.index;
    });
    sorted = keyed.map(function (item) { return item.record; });
    limit = STEP;
    update();
  }

  function fromAddress() {
    var wanted = new URLSearchParams(window.location.hash.slice(1));
    controls.forEach(function (control) {
      var value = wanted.get(control.name);
      if (value === null) { return; }
      var known = control.tagName !== "SELECT" || Array.prototype.some.call(control.options, function (o) { return o.value === value; });
      if (known) { control.value = value; }
    });
  }

  headers.forEach(function (header, column) {
    var button = document.createElement("button");
    button.type = "button";
    while (header.firstChild) { button.appendChild(header.firstChild); }
    header.appendChild(button);
    header.setAttribute("aria-sort", "none");
    button.addEventListener("click", function () { sortBy(header, column); });
  });
  function changed() { limit = STEP; update(); }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () {
    if (data) {  // back to this page of the table; on a single page the rows keep their order, as they always did
      sorted = null;
      headers.forEach(function (cell) { cell.setAttribute("aria-sort", "none"); });
    }
    window.setTimeout(changed, 0);
  });
  if (more) { more.querySelector("button").addEventListener("click", function () { limit += STEP; update(); }); }
  form.hidden = false;
  fromAddress();
  update();
}());
