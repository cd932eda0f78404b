// Small behaviours that need script; CSP forbids inline script, so they live here.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-copy]");
    if (t) {
      var el = document.getElementById(t.getAttribute("data-copy"));
      if (el && navigator.clipboard) {
        navigator.clipboard.writeText(el.textContent.trim()).then(function () {
          var old = t.textContent; t.textContent = "Copied"; setTimeout(function () { t.textContent = old; }, 1500);
        });
      }
    }
    var m = e.target.closest("[data-menu-toggle]");
    if (m) {
      var nav = document.getElementById(m.getAttribute("data-menu-toggle"));
      if (nav) {
        var open = nav.classList.toggle("hidden") === false;
        m.setAttribute("aria-expanded", open ? "true" : "false");
      }
    }
  });
})();
