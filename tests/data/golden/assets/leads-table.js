// All leads: instant filter and sort. The table is complete without this script; it only hides
// rows and reorders them. Data comes from data- attributes on the rows and cells (works from file://).
(function () {
  "use strict";
  var table = document.getElementById("lead-table");
  var form = document.getElementById("lead-filters");
  if (!table || !form) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var count = document.getElementById("lead-count");
  var noMatch = document.getElementById("no-match");
  var controls = Array.prototype.slice.call(form.querySelectorAll("[data-filter]"));
  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });
  var texts = rows.map(function (row) { return row.textContent.replace(/\s+/g, " ").toLowerCase(); });
  var tags = rows.map(function (row) {
    try { return JSON.parse(row.getAttribute("data-tags") || "[]"); } catch (e) { return []; }
  });

  function matches(index) {
    var row = rows[index];
    return controls.every(function (control) {
      var wanted = control.value;
      if (!wanted) { return true; }
      var key = control.getAttribute("data-filter");
      if (key === "text") { return texts[index].indexOf(wanted.trim().toLowerCase()) !== -1; }
      if (key === "tag") { return tags[index].indexOf(wanted) !== -1; }
      return row.getAttribute("data-" + key) === wanted;
    });
  }

  function update() {
    var shown = 0;
    rows.forEach(function (row, index) {
      var visible = matches(index);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    noMatch.hidden = shown !== 0;
    count.textContent = count.getAttribute("data-template")
      .replace("{shown}", String(shown)).replace("{total}", String(rows.length));
  }

  function sortBy(header, column) {
    var type = header.getAttribute("data-type");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.setAttribute("aria-sort", "none"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var keyed = rows.map(function (row, index) {
      var raw = row.cells[column].getAttribute("data-sort") || "";
      return { row: row, index: index, key: type === "number" ? parseFloat(raw) : raw };
    });
    keyed.sort(function (a, b) {
      var order = type === "number" ? a.key - b.key : collator.compare(a.key, b.key);
      if (type !== "number" && (a.key === "") !== (b.key === "")) { return a.key === "" ? 1 : -1; }
      return (ascending ? order : -order) || a.index - b.index;
    });
    keyed.forEach(function (item) { body.appendChild(item.row); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
    var button = document.createElement("button");
    button.type = "button";
    while (header.firstChild) { button.appendChild(header.firstChild); }
    header.appendChild(button);
    header.setAttribute("aria-sort", "none");
    button.addEventListener("click", function () { sortBy(header, column); });
  });
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () { window.setTimeout(update, 0); });
  form.hidden = false;
  update();
}());
