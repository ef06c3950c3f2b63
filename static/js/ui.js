// Small behaviours without inline handlers (the Content-Security-Policy allows no inline script):
//   <button data-print>                    prints the page
//   <input type="checkbox" data-toggle-all="ids">  ticks or clears every checkbox named "ids"
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-print]")) {
      window.print();
    }
  });
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-toggle-all")) return;
    var name = box.getAttribute("data-toggle-all");
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (c) {
      c.checked = box.checked;
    });
  });
})();
