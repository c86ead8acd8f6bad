// Long work (imports, period close and reopen, a preview, SIASN sync): a form marked
// data-proses shows a progress bar and its words once sent, and its button cannot be
// pressed twice while the server works. The result page replaces it when the work ends.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-proses")) return;
  form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  var box = form.querySelector(".proses");
  if (box) { box.hidden = false; box.focus(); }
});
