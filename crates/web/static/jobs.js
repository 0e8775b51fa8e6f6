// While a job on the page is queued or running (the page marks it with data-job-active),
// reload every 2 s so its progress shows; without script the page is reloaded by hand.
(function () {
  if (!document.querySelector("[data-job-active]")) return;
  window.setTimeout(function () {
    window.location.reload();
  }, 2000);
})();
