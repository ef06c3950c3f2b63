// Double-submission guard: a form is sent once; its submit buttons are disabled while it goes.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) { b.classList.add("is-busy"); });
}, true);
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-submitted]").forEach(function (f) { delete f.dataset.submitted; });
  document.querySelectorAll(".is-busy").forEach(function (b) { b.classList.remove("is-busy"); });
});
