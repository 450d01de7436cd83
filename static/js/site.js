// Like / dislike / rate without a page reload: post the form with fetch, then re-fetch the feed
// fragment so the list reflects the new interaction. Without JavaScript the forms still work.
(function () {
  "use strict";

  function announce(text) {
    var status = document.getElementById("status");
    if (status) status.textContent = text || "";
  }

  async function refresh(target) {
    target.classList.add("loading");
    target.setAttribute("aria-busy", "true");
    try {
      var resp = await fetch(target.dataset.refreshUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
      if (resp.ok) target.innerHTML = await resp.text();
    } finally {
      target.classList.remove("loading");
      target.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("submit", async function (event) {
    var form = event.target;
    if (!form.matches("form[data-interaction]")) return;
    event.preventDefault();
    var body = new FormData(form, event.submitter);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      var resp = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") || "" },
      });
      var data = await resp.json().catch(function () { return {}; });
      if (!resp.ok) {
        announce(data.error || "Sorry, that did not work. Please try again.");
        return;
      }
      announce(data.message);
      if (event.submitter && event.submitter.hasAttribute("aria-pressed")) {
        form.querySelectorAll("button[aria-pressed]").forEach(function (b) {
          b.setAttribute("aria-pressed", b === event.submitter ? "true" : "false");
        });
      }
      document.querySelectorAll("[data-your-state]").forEach(function (el) { el.textContent = data.state; });
      var target = form.closest("[data-refresh-url]");
      if (target) {
        await refresh(target);
        var heading = document.getElementById("feed-heading");
        if (heading) heading.focus();
      }
    } catch (err) {
      announce("Network problem: your choice was not saved.");
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  });
})();
