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

  // Drafts: a form posted after the session or its security token expired must not lose what was typed.
  // Each post's fields are kept in this tab's sessionStorage; the server's "expired" page (marked
  // data-draft-kept) makes the draft pending, and the next page showing the same form gets it back.
  // Any other page load drops the draft. Passwords, hidden fields (security tokens) and
  // fields marked data-secret are never kept.
  var DRAFT_KEY = "openmira.console.draft";

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function keptFields(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.hasAttribute("data-secret")) return;
      var type = (el.type || "").toLowerCase();
      if (["hidden", "password", "submit", "button", "reset", "file", "image"].indexOf(type) >= 0) return;
      if (type === "checkbox" || type === "radio") {
        fields.push({name: el.name, value: el.value, checked: el.checked});
      } else if (type === "select-multiple") {
        fields.push({name: el.name, values: Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; })});
      } else {
        fields.push({name: el.name, value: el.value});
      }
    });
    return fields;
  }

  function keepDraft(form) {
    var store = storage();
    if (!store) return;
    // The sign-in form (a password) and forms with nothing typed leave a pending draft where it is.
    if ((form.method || "").toLowerCase() !== "post" || form.hasAttribute("data-no-draft") ||
        form.querySelector("input[type=password]")) return;
    var fields = keptFields(form);
    if (!fields.length) return;
    store.setItem(DRAFT_KEY, JSON.stringify({action: form.action, id: form.id, fields: fields, pending: false}));
  }

  function fillIn(form, fields) {
    Array.prototype.forEach.call(form.elements, function (el) {
      var type = (el.type || "").toLowerCase();
      fields.forEach(function (f) {
        if (f.name !== el.name) return;
        if (type === "checkbox" || type === "radio") {
          if (f.value === el.value) el.checked = f.checked;
        } else if (type === "select-multiple") {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = (f.values || []).indexOf(o.value) >= 0; });
        } else if (typeof f.value === "string" && ["hidden", "password", "file"].indexOf(type) < 0) {
          el.value = f.value;
        }
      });
    });
  }

  function restoreDraft() {
    var store = storage();
    if (!store) return;
    var draft = null;
    try { draft = JSON.parse(store.getItem(DRAFT_KEY) || "null"); } catch (e) { draft = null; }
    if (!draft) return;
    if (document.querySelector("[data-draft-kept]")) {
      draft.pending = true;
      store.setItem(DRAFT_KEY, JSON.stringify(draft));
      return;
    }
    if (!draft.pending) { store.removeItem(DRAFT_KEY); return; }
    var form = Array.prototype.find.call(document.forms, function (f) {
      return f.action === draft.action && (f.id || "") === (draft.id || "");
    });
    if (!form) return;  // e.g. the sign-in page on the way back: keep it for the form's page
    store.removeItem(DRAFT_KEY);
    fillIn(form, draft.fields || []);
    var note = document.createElement("p");
    note.className = "alert alert-info";
    note.setAttribute("role", "status");
    note.setAttribute("data-draft-restored", "");
    note.textContent = "What you typed before was put back. Check it and send the form again.";
    form.insertBefore(note, form.firstChild);
    var details = form.closest("details");
    if (details) details.open = true;
    var dialog = form.closest("dialog");
    if (dialog) openDialog(dialog);
    else if (form.scrollIntoView) form.scrollIntoView({block: "center"});
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement) keepDraft(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    restoreDraft();
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
