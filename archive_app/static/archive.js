// A table that scrolls sideways (on a narrow screen) can be reached and scrolled by keyboard:
// it gets a tab stop and is named a region (WCAG 2.1.1; axe's scrollable-region-focusable).
(function () {
  "use strict";
  function reachable() {
    document.querySelectorAll("main table, main .scroll").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-stop", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-stop")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-stop");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", reachable);
  window.addEventListener("resize", reachable);
})();
