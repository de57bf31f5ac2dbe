// Upload progress for the evidence form: htmx reports XHR progress events; show them in <progress>.
document.addEventListener("htmx:xhr:progress", function (evt) {
  var bar = document.getElementById("upload-progress");
  if (!bar || !evt.detail || !evt.detail.lengthComputable) { return; }
  var pct = Math.round((evt.detail.loaded / evt.detail.total) * 100);
  bar.value = pct;
  bar.textContent = pct + "%";
});
document.addEventListener("htmx:afterRequest", function (evt) {
  var form = document.getElementById("upload-form");
  if (form && evt.detail.elt === form && evt.detail.successful) { form.reset(); }
});
