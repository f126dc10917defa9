// The support workspace's few behaviours; every page works without this file.
(function () {
  "use strict";

  // Copy an upload link: the button names the input it copies.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        input.select(); document.execCommand("copy"); done();
      });
    } else {
      input.select(); document.execCommand("copy"); done();
    }
  });

  // The language menu submits itself.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    // A refused form is open again: bring it into view.
    var refused = document.querySelector("details.ws-action[open] .errornote");
    if (refused) refused.scrollIntoView({ block: "center" });
    // A link to a part of the page (#evidence-12) opens it.
    if (location.hash) {
      var target = document.querySelector(location.hash);
      if (target && target.tagName === "DETAILS") target.open = true;
    }
  });
})();
