// Couplet operator console: the only script. Asks before the actions that cannot be undone
// by another click (data-confirm), and disables a form's buttons while it is submitted, so a
// double click does not re-drive a record twice.
document.addEventListener("submit", function (e) {
  var form = e.target;
  var ask = form.getAttribute("data-confirm");
  if (ask && !window.confirm(ask)) {
    e.preventDefault();
    return;
  }
  setTimeout(function () {
    form.querySelectorAll("button").forEach(function (b) {
      b.disabled = true;
    });
  }, 0);
});
