// Checks chosen files against the limits the server enforces (data-* attributes set from the policy, with the
// server's own messages) before anything is sent, so a refused upload never wipes what was typed. If the server
// or the network still refuses a large body, htmx leaves the form in place and the message is shown above it.
(function () {
  "use strict";

  function showFieldError(input, message) {
    var target = document.getElementById(input.dataset.errorId);
    if (target) target.textContent = message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function fieldProblem(input) {
    var files = Array.prototype.slice.call(input.files || []);
    var field = input.closest(".field");
    var kept = field ? field.querySelectorAll("input[name=_kept]:checked").length : 0;
    if (files.length + kept > Number(input.dataset.maxFiles)) return input.dataset.msgCount;
    var big = files.filter(function (file) { return file.size > Number(input.dataset.maxBytes); })[0];
    return big ? input.dataset.msgSize.replace("{name}", big.name) : "";
  }

  // The first file input with a problem (its message shown), or null when the form may be sent.
  function firstProblem(form) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input[type=file][data-max-files]"));
    var first = null;
    var total = 0;
    inputs.forEach(function (input) {
      var message = fieldProblem(input);
      showFieldError(input, message);
      if (message && !first) first = input;
      Array.prototype.forEach.call(input.files || [], function (file) { total += file.size; });
    });
    if (!first && inputs.length && total > Number(form.dataset.maxBody)) {
      first = inputs[0];
      showFieldError(first, document.body.dataset.msgTooLarge);
    }
    return first;
  }

  function showFormAlert(form, message) {
    var alert = form.querySelector("[data-upload-alert]");
    if (!alert) {
      alert = document.createElement("p");
      alert.className = "alert alert-error";
      alert.setAttribute("role", "alert");
      alert.setAttribute("data-upload-alert", "");
      form.insertBefore(alert, form.firstChild);
    }
    alert.textContent = message;
  }

  // Capture phase on the document: runs before htmx's own submit handler on the form, and can stop it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.maxBody) return;
    var bad = firstProblem(form);
    if (bad) {
      event.preventDefault();
      event.stopPropagation();
      bad.focus();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.form && input.form.dataset.maxBody && (input.dataset.maxFiles || input.name === "_kept")) {
      firstProblem(input.form);
    }
  });

  function refusedForm(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.closest ? elt.closest("form[data-max-body]") : null;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var form = refusedForm(event);
    if (form && event.detail.xhr.status === 413) showFormAlert(form, document.body.dataset.msgTooLarge);
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = refusedForm(event);
    if (form) showFormAlert(form, document.body.dataset.msgSendFailed);
  });
})();
