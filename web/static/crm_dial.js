// Click-to-dial from a customer's record: the agent's own phone rings first, then the number
// (sent by its phone id: a number the CRM shows masked stays on the server).
(function () {
  "use strict";
  var list = document.getElementById("phones");
  var notice = document.getElementById("dial-notice");
  if (!list || !notice) { return; }

  function say(text, bad) {
    notice.textContent = text;
    notice.classList.toggle("error", !!bad);
    notice.hidden = false;
  }

  list.addEventListener("click", function (e) {
    var button = e.target.closest("button.dial-phone");
    if (!button) { return; }
    button.disabled = true;
    fsCc.sendJson("POST", list.dataset.dialUrl, {phone_id: Number(button.dataset.phoneId)})
      .then(function () { say("Calling: your phone rings first, then the customer's."); })
      .catch(function (err) {
        if (fsCc.isSessionExpired(err)) { return; }
        say("Not called: " + ((err.data && err.data.error) || err.message), true);
      })
      .then(function () { button.disabled = false; });
  });
})();
