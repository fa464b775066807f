// The few things that need a script; every page works without it.
// 1. "Copy citation" buttons (hidden until this runs): copy the citation, say so.
// 2. On a phone, the search filters start folded, so that the results come first.
(function () {
  "use strict";

  function announce(button, text) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = text; }
    var original = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", original);
    button.textContent = text;
    window.setTimeout(function () { button.textContent = original; }, 2000);
  }

  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done;
  }

  function copy(button) {
    var text = button.getAttribute("data-copy") || "";
    var copied = button.getAttribute("data-copied") || "";
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () { announce(button, copied); },
        function () { if (copyWithSelection(text)) { announce(button, copied); } }
      );
    } else if (copyWithSelection(text)) {
      announce(button, copied);
    }
  }

  var buttons = document.querySelectorAll("button.copy-cite");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
  }

  var filters = document.querySelector("details.filters");
  if (filters && window.matchMedia) {
    filters.open = !window.matchMedia("(max-width: 48rem)").matches;
  }
})();
