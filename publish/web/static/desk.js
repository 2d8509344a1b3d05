// The desk's only script: response-due countdowns that keep counting, and the reply
// box's live guideline check. Every page works without it; the server checks again.
(function () {
  "use strict";

  var serverNow = Date.parse(document.body.getAttribute("data-now"));
  var loadedAt = Date.now();

  // the words come translated from the page (base.html's data-*), English without them
  function words(name, fallback) {
    return document.body.getAttribute("data-" + name) || fallback;
  }

  function fill(text, values) {
    return text.replace(/\{(\w*)\}/g, function (all, key) { return values[key || "x"]; });
  }

  function span(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var rest = minutes % 60;
    if (days) { return fill(words("span-days", "{d} d {h} h"), {d: days, h: hours}); }
    if (hours) { return fill(words("span-hours", "{h} h {m} min"), {h: hours, m: rest}); }
    return fill(words("span-minutes", "{m} min"), {m: rest});
  }

  function tick() {
    var now = serverNow + (Date.now() - loadedAt);
    document.querySelectorAll("time[data-due]").forEach(function (node) {
      var due = Date.parse(node.getAttribute("data-due"));
      node.textContent = due >= now
        ? fill(words("due-in", "due in {}"), {x: span(due - now)})
        : fill(words("overdue-by", "overdue by {}"), {x: span(now - due)});
    });
  }

  if (!isNaN(serverNow)) { window.setInterval(tick, 30000); }

  var form = document.querySelector("form.reply-form");
  if (!form) { return; }
  var box = form.querySelector("textarea");
  var lengthNode = document.getElementById("reply-length");
  var findingsNode = document.getElementById("reply-findings");
  var timer = null;
  var sequence = 0;

  function show(result) {
    lengthNode.textContent = result.length + " / " + result.limit + " characters" +
      (result.weighted ? " (X weighted length)" : "");
    lengthNode.className = result.length > result.limit ? "note over" : "note";
    findingsNode.textContent = "";
    if (!result.findings.length) { return; }
    var list = document.createElement("ul");
    list.className = "findings";
    result.findings.forEach(function (finding) {
      var item = document.createElement("li");
      item.className = "finding-" + finding.severity;
      item.textContent = finding.severity + ": " + finding.message;
      list.appendChild(item);
    });
    findingsNode.appendChild(list);
  }

  function check() {
    var mine = ++sequence;
    var body = new URLSearchParams();
    body.set("text", box.value);
    fetch(form.getAttribute("data-check-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": form.getAttribute("data-csrf"), "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (result) {
      if (result && mine === sequence) { show(result); }
    }).catch(function () { /* the server checks again on submit */ });
  }

  box.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 250);
  });
}());
