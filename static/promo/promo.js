/* promo: a few lines of progressive enhancement; every page works without them. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The language switch submits on change; the button stays for keyboard/no-JS users.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Investor typeahead: a search box above the investor <select> asks
  // /investors/search/?q= and replaces the options with the visible matches.
  document.querySelectorAll("[data-typeahead-for]").forEach(function (input) {
    var select = document.getElementById(input.getAttribute("data-typeahead-for"));
    var url = input.getAttribute("data-url");
    if (!select || !url) { return; }
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (!q) { return; }
        fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            var keep = select.value;
            while (select.options.length > 1) { select.remove(1); }
            data.results.forEach(function (item) {
              var option = new Option(item.name, item.id);
              select.add(option);
            });
            if (data.results.length === 1) { select.value = String(data.results[0].id); }
            else if (keep) { select.value = keep; }
            select.dispatchEvent(new Event("change"));
          });
      }, 250);
    });
  });

  // Typing a new investor's name means the visit is not on the investor the search picked:
  // clear the pick (the server refuses a form that still carries both).
  document.querySelectorAll("[data-clears]").forEach(function (input) {
    var other = document.getElementById(input.getAttribute("data-clears"));
    if (!other) { return; }
    input.addEventListener("input", function () {
      if (input.value.trim() && other.value) {
        other.value = "";
        other.dispatchEvent(new Event("change"));
      }
    });
  });

  // A form is sent once: a second tap while the first is on its way does nothing (the
  // server also recognises a resent form by its submission key).
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
      form.setAttribute("data-sending", "1");
      // Sent again after a while (the connection dropped): allowed, the key keeps it once.
      setTimeout(function () { form.removeAttribute("data-sending"); }, 8000);
    });
  });

  // The lead <select> only offers leads of the chosen investor.
  document.querySelectorAll("select[data-filter-by]").forEach(function (select) {
    var source = document.getElementById(select.getAttribute("data-filter-by"));
    if (!source) { return; }
    function apply() {
      Array.prototype.forEach.call(select.options, function (option) {
        var owner = option.getAttribute("data-investor");
        option.hidden = Boolean(owner) && owner !== source.value;
      });
      var chosen = select.options[select.selectedIndex];
      if (chosen && chosen.hidden) { select.value = ""; }
    }
    source.addEventListener("change", apply);
    apply();
  });
})();
