// The import page's progress: polls the job's JSON status until it is done, then reloads
// the page (which lists the rows' problems).
(function () {
  "use strict";
  var holder = document.getElementById("import-job");
  if (!holder) { return; }
  var url = holder.getAttribute("data-status-url");
  var names = {status: "status", processed: "processed", total: "total_rows", created: "created",
               updated: "updated", skipped: "skipped", failed: "failed"};

  function show(job) {
    Object.keys(names).forEach(function (id) {
      document.getElementById(id).textContent = job[names[id]];
    });
    var bar = document.getElementById("progress");
    bar.max = job.total_rows || 1;
    bar.value = job.processed;
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (answer) { return answer.json(); })
      .then(function (job) {
        show(job);
        if (job.status === "queued" || job.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  poll();
})();
