// The console's only script besides htmx: every page works without it.
// - A form marked data-require-all="CLASS" keeps its submit button disabled
//   until every checkbox of that class is ticked (the server checks too).
// - A button with data-copy="ID" copies that element's text (shown only
//   when the clipboard is available).
(function () {
  "use strict";

  function requireAll(form) {
    var cls = form.getAttribute("data-require-all");
    var boxes = form.querySelectorAll("input[type=checkbox]." + cls);
    var submit = form.querySelector("button[type=submit]");
    if (!submit || boxes.length === 0) {
      return;
    }
    function update() {
      var all = true;
      boxes.forEach(function (b) { all = all && b.checked; });
      submit.disabled = !all;
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  function copyButton(button) {
    if (!navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) {
        return;
      }
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.setAttribute("data-copied", "true");
        button.firstChild.textContent = "Copied";
      });
    });
  }

  function init(root) {
    root.querySelectorAll("form[data-require-all]").forEach(requireAll);
    root.querySelectorAll("button[data-copy]").forEach(copyButton);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
})();
