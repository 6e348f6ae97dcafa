// The bulletin's 打印 button: a script file, not an inline onclick (the Content-Security-Policy
// allows no inline script).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
