// Print button of the end-of-course letter: progressive enhancement (the browser's print works without it).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) { window.print(); }
  });
})();
