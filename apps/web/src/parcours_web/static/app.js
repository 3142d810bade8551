// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", focusErrorSummary);
  // Language selector: submit on change for mouse users; the button stays for keyboard users.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.id === "language-choice" && target.form) { target.form.requestSubmit(); }
  });
})();
