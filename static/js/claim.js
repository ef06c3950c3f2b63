// When the rule changes, its default points are filled in (the server sends them with the rule's facts).
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.target.id !== "rule-info") return;
  var source = document.getElementById("rule-default"), points = document.getElementById("id_points");
  if (source && points) points.value = source.value;
});
// "Tick everyone" for group activities: a button with data-check-all="<selector of a fieldset>".
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-check-all]");
  if (!button) return;
  var boxes = document.querySelectorAll(button.dataset.checkAll + " input[type=checkbox]");
  var tick = Array.prototype.some.call(boxes, function (b) { return !b.checked; });
  boxes.forEach(function (b) { b.checked = tick; });
});
