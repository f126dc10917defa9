// The inbox's few behaviours; every page works without this file.
(function () {
  "use strict";
  // "Select all on this page" in the inbox's list.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-select-all]")) return;
    var table = event.target.closest("table");
    table.querySelectorAll("input[name=ids]").forEach(function (item) {
      item.checked = event.target.checked;
    });
  });
  // The composer's length counter, against the marketplace's limit.
  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!area.matches("textarea[data-max-length]")) return;
    var counter = document.getElementById(area.getAttribute("data-counter"));
    if (!counter) return;
    var max = parseInt(area.getAttribute("data-max-length"), 10);
    counter.textContent = area.value.length + " / " + max;
    counter.classList.toggle("ws-alert-text", area.value.length > max);
  });
})();
