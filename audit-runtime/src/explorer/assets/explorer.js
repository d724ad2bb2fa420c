// The audit explorer's only script: shows times in the viewer's own time zone on
// request (remembered in this browser), or in UTC as the server renders them.
(function () {
  "use strict";
  var KEY = "audit-explorer-zone";
  var button = document.getElementById("zone");
  if (!button) return;
  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
  function local(date) {
    var off = -date.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) + "." +
      pad(date.getMilliseconds(), 3) + " " + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }
  function show(zone) {
    var times = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      if (!t.hasAttribute("data-utc")) t.setAttribute("data-utc", t.textContent);
      if (zone === "local") {
        var d = new Date(t.getAttribute("datetime"));
        if (!isNaN(d.getTime())) t.textContent = local(d);
      } else {
        t.textContent = t.getAttribute("data-utc");
      }
    }
    button.textContent = zone === "local" ? "Show UTC" : "Show local time";
  }
  var zone = "utc";
  try { zone = localStorage.getItem(KEY) || "utc"; } catch (e) { /* storage off */ }
  button.hidden = false;
  show(zone);
  button.addEventListener("click", function () {
    zone = zone === "local" ? "utc" : "local";
    try { localStorage.setItem(KEY, zone); } catch (e) { /* storage off */ }
    show(zone);
  });
})();
