// When the rule changes, its default points are filled in (the server sends them with the rule's facts).
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.target.id !== "rule-info") return;
  var source = document.getElementById("rule-default"), points = document.getElementById("id_points");
  if (source && points) points.value = source.value;
});
