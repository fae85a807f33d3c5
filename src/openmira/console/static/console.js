// OpenMira console: dialogs, copy buttons and auto-submitting filters. No inline script anywhere
// (the Content-Security-Policy forbids it), so everything is wired here from data- attributes.
(function () {
  "use strict";

  function openDialog(dialog) {
    if (!dialog) return;
    if (typeof dialog.showModal === "function") {
      if (!dialog.open) dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    var first = dialog.querySelector("input:not([type=hidden]), button[type=submit]");
    if (first) first.focus();
  }

  function closeDialog(dialog) {
    if (!dialog) return;
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  function copyText(text, button) {
    function done(ok) {
      var label = button.textContent;
      button.textContent = ok ? "Copied" : "Copy failed";
      button.classList.toggle("copied", ok);
      window.setTimeout(function () {
        button.textContent = label === "Copied" || label === "Copy failed" ? "Copy" : label;
        button.classList.remove("copied");
      }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallbackCopy(text)); });
    } else {
      done(fallbackCopy(text));
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var opener = target.closest("[data-dialog]");
    if (opener) {
      event.preventDefault();
      openDialog(document.getElementById(opener.getAttribute("data-dialog")));
      return;
    }
    var closer = target.closest("[data-close]");
    if (closer) {
      event.preventDefault();
      closeDialog(closer.closest("dialog"));
      return;
    }
    var copier = target.closest("[data-copy]");
    if (copier) {
      var source = document.getElementById(copier.getAttribute("data-copy"));
      if (source) copyText(source.textContent.trim(), copier);
      return;
    }
    // A click on the backdrop (outside the dialog's box) closes it.
    if (target.tagName === "DIALOG" && target.open) {
      var box = target.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right &&
        event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside && !target.hasAttribute("data-autoshow")) closeDialog(target);
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target && target.hasAttribute("data-autosubmit") && target.form) target.form.submit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog[data-autoshow]").forEach(function (dialog) {
      if (dialog.hasAttribute("data-discard")) {
        // A window showing a secret: once closed, the secret leaves the page for good, and a reload
        // becomes a plain GET instead of re-sending the form (which would generate another pair).
        dialog.addEventListener("close", function () { dialog.remove(); });
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", dialog.getAttribute("data-discard") || window.location.pathname);
        }
      }
      openDialog(dialog);
    });
  });
})();
