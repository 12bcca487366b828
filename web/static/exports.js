/* fs_cc: the "My exports" page follows each queued or running job through the JSON API and
   shows its progress, then its download link. */
(function () {
  "use strict";
  var table = document.getElementById("exports");
  var everyMs = Number(table.dataset.refreshMs) || 2000;

  function show(row, job) {
    var bar = row.querySelector("progress");
    bar.max = job.total || Math.max(job.done_rows, 1);
    bar.value = job.status === "done" ? bar.max : job.done_rows;
    row.querySelector(".export-status").textContent =
      job.status + (job.status === "failed" ? ": " + (job.error || "") : "");
    row.querySelector(".export-rows").textContent =
      job.done_rows + (job.total !== null ? " / " + job.total : "") + " rows";
    row.dataset.status = job.status;
    if (job.download_url && !row.querySelector(".export-file a")) {
      var cell = row.querySelector(".export-file");
      var link = document.createElement("a");
      link.href = row.dataset.file;
      link.textContent = "download";
      cell.textContent = "";
      cell.appendChild(link);
      cell.appendChild(document.createTextNode(" (" + job.file_size + " bytes)"));
    }
  }

  // one round at a time: the next is asked once every answer of this one is in
  function refresh() {
    var pending = document.querySelectorAll(
      "tr.export[data-status=queued], tr.export[data-status=running]");
    if (!pending.length) { return; }
    Promise.all(Array.prototype.map.call(pending, function (row) {
      return fsCc.getJson(row.dataset.url).then(function (job) { show(row, job); })
        .catch(function () { /* the next round asks again */ });
    })).then(function () { window.setTimeout(refresh, everyMs); });
  }

  refresh();
})();
