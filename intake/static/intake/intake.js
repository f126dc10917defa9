/* Evidence intake form: each chosen file is sent on its own, with a progress bar and its
   result. Without this script the form is a plain multipart submit that works the same. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // One file at a time: on a phone the uplink is the bottleneck, so parallel uploads finish no
  // sooner, and in turn each file gets its result as early as possible.
  var PARALLEL = 1;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  ready(function () {
    var form = document.getElementById("upload-form");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    var strings = JSON.parse(document.getElementById("intake-strings").textContent);
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var queue = [];
    var running = 0;

    localTimes();

    form.addEventListener("submit", function (event) {
      event.preventDefault(); // files are already on their way
    });

    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      input.addEventListener("change", function () {
        var item = input.dataset.item || "";
        var list = form.querySelector('ul[data-files-for="' + cssEscape(item) + '"]');
        Array.prototype.forEach.call(input.files, function (file) {
          var row = addRow(list, file);
          if (file.size > maxBytes) {
            finish(row, "refused", format(strings.too_large, {
              name: file.name, limit: Math.round(maxBytes / 1048576)
            }));
            return;
          }
          queue.push({ file: file, item: item, row: row });
        });
        input.value = "";
        pump();
      });
    });

    function cssEscape(value) {
      return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&");
    }

    function addRow(list, file) {
      var row = el("li", "file waiting");
      row.appendChild(el("span", "name", file.name));
      var bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      row.appendChild(bar);
      row.appendChild(el("span", "outcome", strings.waiting));
      list.appendChild(row);
      return row;
    }

    function finish(row, status, message, previewUrl) {
      row.className = "file " + status;
      var bar = row.querySelector("progress");
      if (bar) bar.remove();
      var mark = status === "accepted" || status === "duplicate" ? "✓ " : "✗ ";
      row.querySelector(".outcome").textContent = mark + message;
      if (previewUrl) {
        var img = el("img", "thumb");
        img.alt = "";
        img.width = 64;
        img.height = 48;
        row.insertBefore(img, row.firstChild);
        loadPreview(img, previewUrl, 0);
      }
    }

    function pump() {
      while (running < PARALLEL && queue.length) {
        running += 1;
        send(queue.shift());
      }
    }

    function send(job) {
      var row = job.row;
      var bar = row.querySelector("progress");
      var outcome = row.querySelector(".outcome");
      row.className = "file sending";
      outcome.textContent = strings.sending;
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrf);
      data.append("item", job.item);
      data.append("file", job.file, job.file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.addEventListener("progress", function (event) {
        if (!event.lengthComputable) return;
        var percent = Math.round((event.loaded / event.total) * 100);
        bar.value = percent;
        outcome.textContent = strings.sending + " " + percent + " %";
        if (percent >= 100) outcome.textContent = strings.checking;
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (body && body.files && body.files.length) {
          var result = body.files[0];
          finish(row, result.status, result.message, result.preview_url);
          if (result.status === "accepted" && result.preview_url) {
            addToGallery(result.preview_url, result.file_url, result.name);
          }
          update(body);
        } else if (body && body.message) {
          finish(row, "refused", body.message);
        } else {
          failed(job);
        }
        done();
      });
      xhr.addEventListener("error", function () { failed(job); done(); });
      xhr.addEventListener("abort", function () { failed(job); done(); });
      xhr.send(data);
    }

    function done() {
      running -= 1;
      pump();
    }

    function failed(job) {
      finish(job.row, "failed", strings.failed);
      var again = el("button", "", strings.retry);
      again.type = "button";
      again.addEventListener("click", function () {
        again.remove();
        var bar = el("progress");
        bar.max = 100;
        bar.value = 0;
        job.row.insertBefore(bar, job.row.querySelector(".outcome"));
        queue.push(job);
        pump();
      });
      job.row.appendChild(again);
    }

    function update(body) {
      (body.checklist || []).forEach(function (entry) {
        var item = form.querySelector('li.item[data-item="' + cssEscape(entry.key) + '"]');
        if (!item) return;
        item.classList.toggle("done", entry.done);
        item.querySelector(".progress-text").textContent = entry.text;
      });
      var status = document.getElementById("status");
      if (body.status) {
        status.innerHTML = "";
        status.appendChild(el("p", body.status_kind === "warning" ? "warning" : "ok", body.status));
        status.classList.remove("hidden");
      }
      var finishForm = document.getElementById("finish-form");
      if (finishForm) finishForm.classList.toggle("hidden", Boolean(body.fulfilled));
    }

    function addToGallery(previewUrl, fileUrl, name) {
      var section = document.getElementById("sent");
      var gallery = document.getElementById("gallery");
      var li = el("li");
      var link = el("a");
      link.href = fileUrl;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      var img = el("img");
      img.alt = name;
      img.width = 120;
      img.height = 90;
      link.appendChild(img);
      li.appendChild(link);
      gallery.appendChild(li);
      section.classList.remove("hidden");
      loadPreview(img, previewUrl, 0);
    }

    // Previews are made in the background: until ready the server answers with a placeholder
    // marked X-Preview-Pending; ask again a few times.
    function loadPreview(img, url, attempt) {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url);
      xhr.responseType = "blob";
      xhr.addEventListener("load", function () {
        if (xhr.status !== 200) return;
        img.src = URL.createObjectURL(xhr.response);
        if (xhr.getResponseHeader("X-Preview-Pending") && attempt < 8) {
          setTimeout(function () { loadPreview(img, url, attempt + 1); }, 1500 * (attempt + 1));
        }
      });
      xhr.send();
    }

    function localTimes() {
      if (!window.Intl || !Intl.DateTimeFormat) return;
      var lang = document.documentElement.lang || undefined;
      Array.prototype.forEach.call(document.querySelectorAll("time[data-local-time]"), function (t) {
        var when = new Date(t.getAttribute("datetime"));
        if (isNaN(when.getTime())) return;
        try {
          // The customer's clock (the server names the zone), with its zone written out, so
          // nobody misreads the deadline.
          var options = {
            weekday: "long", year: "numeric", month: "long", day: "numeric",
            hour: "numeric", minute: "2-digit", timeZoneName: "short"
          };
          var zone = t.getAttribute("data-time-zone");
          if (zone) options.timeZone = zone;
          t.textContent = new Intl.DateTimeFormat(lang, options).format(when);
        } catch (e) { /* keep the server's text */ }
      });
    }

    // Images already on the page (confirmation after a plain submit) may still be placeholders.
    Array.prototype.forEach.call(document.querySelectorAll("img[data-preview]"), function (img) {
      loadPreview(img, img.getAttribute("src"), 0);
    });
  });
})();
