// Small behaviours that need script; CSP forbids inline script, so they live here.
(function () {
  "use strict";

  // data-copy="id": copy that element's text; if the clipboard is refused, select the text so
  // the person can copy it themselves.
  function copyFrom(button) {
    var el = document.getElementById(button.getAttribute("data-copy"));
    if (!el) return;
    var text = el.textContent.trim();
    var old = button.textContent;
    function done(label) {
      button.textContent = label;
      setTimeout(function () { button.textContent = old; }, 1500);
    }
    function selectIt() {
      var range = document.createRange();
      range.selectNodeContents(el);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      done("Press Ctrl+C");
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, selectIt);
    } else {
      selectIt();
    }
  }

  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-copy]");
    if (t) copyFrom(t);
    var m = e.target.closest("[data-menu-toggle]");
    if (m) {
      var nav = document.getElementById(m.getAttribute("data-menu-toggle"));
      if (nav) {
        var open = nav.classList.toggle("hidden") === false;
        m.setAttribute("aria-expanded", open ? "true" : "false");
      }
    }
  });

  // Escape closes what was opened: the phone menu, a <details> holding focus, a tooltip.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" && e.key !== "Esc") return;
    var active = document.activeElement;
    var tip = active && active.closest ? active.closest(".group") : null;
    tip = tip && tip.querySelector('[role="tooltip"]');
    if (tip && tip.style.display !== "none") {
      tip.style.display = "none";
      return;
    }
    var details = active && active.closest ? active.closest("details[open]") : null;
    if (details) {
      details.open = false;
      var summary = details.querySelector("summary");
      if (summary) summary.focus();
      return;
    }
    document.querySelectorAll('[data-menu-toggle][aria-expanded="true"]').forEach(function (m) {
      var nav = document.getElementById(m.getAttribute("data-menu-toggle"));
      if (nav) nav.classList.add("hidden");
      m.setAttribute("aria-expanded", "false");
      m.focus();
    });
  });
  // A tooltip hidden with Escape shows again the next time its button is focused or hovered.
  ["focusin", "mouseover"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var g = e.target.closest ? e.target.closest(".group") : null;
      var tip = g && g.querySelector('[role="tooltip"]');
      if (tip && tip.style.display === "none" && !g.contains(e.relatedTarget)) tip.style.display = "";
    });
  });

  // A click outside an open menu (<details data-menu>, the account switcher) closes it.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  });

  // After "load more", move focus to the first new row so the keyboard continues there.
  document.addEventListener("htmx:load", function (e) {
    var el = e.target;
    if (el && el.hasAttribute && el.hasAttribute("data-focus-on-load")) {
      el.removeAttribute("data-focus-on-load");
      var f = el.querySelector("summary, a, button") || el;
      f.focus();
    }
  });

  // htmx does not swap a failed answer (4xx but 422, 5xx; layouts.htmxConfig): the error
  // handler's fragment (role="alert") is shown in the page's request-error region instead, and
  // cleared by the next request. A server that cannot be reached gets a message of its own.
  function showRequestError(node) {
    var region = document.getElementById("request-error");
    if (region) region.replaceChildren(node);
  }
  function alertBox(text) {
    var div = document.createElement("div");
    div.setAttribute("role", "alert");
    div.setAttribute("data-testid", "error-fragment");
    div.className = "rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800";
    div.textContent = text;
    return div;
  }
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail && e.detail.xhr;
    var doc = new DOMParser().parseFromString((xhr && xhr.responseText) || "", "text/html");
    var frag = doc.querySelector('[data-testid="error-fragment"]');
    showRequestError(frag ? document.importNode(frag, true) :
      alertBox("Something went wrong (status " + (xhr ? xhr.status : "?") + "); please try again."));
  });
  document.addEventListener("htmx:sendError", function () {
    showRequestError(alertBox("The server could not be reached; check your connection and try again."));
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var region = document.getElementById("request-error");
    if (region) region.replaceChildren();
  });
})();
