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

  // Drafts (草稿, issue #15): a form marked data-draft keeps what the officer types in this
  // browser, per officer, until it is saved. A session that expired (the POST went to the
  // sign-in page) or a connection that dropped loses nothing: back on the form, the text is
  // put back, with its submission key, so a form that did reach the server is still saved
  // once. Before putting a draft back the page asks the server whether its key was saved
  // (then the draft is dropped). Signing out clears this officer's drafts; a week-old draft
  // is dropped unread.
  var officer = document.body && document.body.getAttribute("data-officer");
  var DRAFT_PREFIX = "promo-draft:" + officer + ":";
  var DRAFT_DAYS = 7;
  var NOT_KEPT = { csrfmiddlewaretoken: true };

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function fieldsOf(form) {
    var kept = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || NOT_KEPT[el.name] || el.disabled) { return; }
      var type = (el.type || "").toLowerCase();
      if (type === "file" || type === "password" || type === "submit" || type === "button") { return; }
      if (type === "checkbox" || type === "radio") {
        kept.push({ name: el.name, value: el.value, checked: el.checked });
      } else if (el.tagName === "SELECT") {
        var chosen = Array.prototype.filter.call(el.options, function (o) { return o.selected && o.value; });
        kept.push({
          name: el.name,
          values: chosen.map(function (o) { return o.value; }),
          labels: chosen.map(function (o) { return o.text; })
        });
      } else {
        kept.push({ name: el.name, value: el.value });
      }
    });
    return kept;
  }

  function putBack(form, kept) {
    var changed = [];
    kept.forEach(function (item) {
      var els = form.querySelectorAll("[name='" + item.name.replace(/'/g, "") + "']");
      Array.prototype.forEach.call(els, function (el) {
        var type = (el.type || "").toLowerCase();
        if (type === "checkbox" || type === "radio") {
          if (el.value === item.value) { el.checked = item.checked; }
        } else if (el.tagName === "SELECT" && item.values) {
          item.values.forEach(function (value, i) {
            var found = Array.prototype.some.call(el.options, function (o) { return o.value === value; });
            // An investor found by the search is not among the page's first options.
            if (!found) { el.add(new Option(item.labels[i] || value, value)); }
          });
          Array.prototype.forEach.call(el.options, function (o) {
            o.selected = item.values.indexOf(o.value) !== -1;
          });
          if (!item.values.length) { el.value = ""; }
          changed.push(el);
        } else if (item.value !== undefined) {
          el.value = item.value;
        }
      });
    });
    // Dependent widgets (the lead list follows the investor) catch up.
    changed.forEach(function (el) { el.dispatchEvent(new Event("change")); });
  }

  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var store = storage();
    if (!store || !officer) { return; }
    var key = DRAFT_PREFIX + form.getAttribute("data-draft");
    var submission = form.querySelector("[name='submission']");
    var notice = form.querySelector("[data-draft-notice]");
    var timer = null;
    var draft = null;
    try { draft = JSON.parse(store.getItem(key) || "null"); } catch (e) { draft = null; }

    function save() {
      try {
        store.setItem(key, JSON.stringify({ at: Date.now(), fields: fieldsOf(form) }));
      } catch (e) { /* storage full or refused: the form still works */ }
    }
    function later() { clearTimeout(timer); timer = setTimeout(save, 300); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    // Sent: keep the draft until the server has it (the next form asks with its key).
    form.addEventListener("submit", save);

    var discard = form.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        store.removeItem(key);
        window.location.reload();
      });
    }

    if (!draft || !draft.fields) { return; }
    if (!draft.at || Date.now() - draft.at > DRAFT_DAYS * 864e5) { store.removeItem(key); return; }
    var draftKey = "";
    draft.fields.forEach(function (f) { if (f.name === "submission") { draftKey = f.value || ""; } });
    // The same form shown again (with the server's errors): what it shows is the newer.
    if (submission && draftKey && submission.value === draftKey) { return; }

    function restore() {
      putBack(form, draft.fields);
      if (notice) { notice.hidden = false; }
    }
    var check = form.getAttribute("data-draft-check");
    if (!draftKey || !check || !/^[0-9a-f-]{36}$/.test(draftKey)) { restore(); return; }
    fetch(check.replace("00000000-0000-0000-0000-000000000000", draftKey), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (r) { return r.ok ? r.json() : { saved: false }; })
      .then(function (state) {
        if (state && state.saved) { store.removeItem(key); } else { restore(); }
      })
      // Unreachable: better to show the text again than to lose it (the key keeps it once).
      .catch(restore);
  });

  // Signing out leaves nothing of this officer's drafts on a shared device.
  document.querySelectorAll("form[data-drafts-clear]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var store = storage();
      if (!store) { return; }
      for (var i = store.length - 1; i >= 0; i -= 1) {
        var name = store.key(i);
        if (name && name.indexOf(DRAFT_PREFIX) === 0) { store.removeItem(name); }
      }
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

// Quick due dates (issue #15): a button fills the date field with a day the server computed
// (明天, 一周后…) in one tap instead of the phone's date picker.
(function () {
  "use strict";
  document.querySelectorAll("[data-date-for]").forEach(function (box) {
    var input = document.getElementById(box.getAttribute("data-date-for"));
    if (!input) { return; }
    box.hidden = false;
    box.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-date]");
      if (!button) { return; }
      input.value = button.getAttribute("data-date");
      // The draft keeper and any dependent widget hear it as if typed.
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });
})();
