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

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // A form shown fresh gets its submission key here, not only from the server: the service
  // worker hands out the same kept copy of the visit form each time it opens offline, and two
  // visits must never share a key (the second would be taken for a resend of the first).
  document.querySelectorAll("form[data-fresh-key] [name='submission']").forEach(function (input) {
    input.value = uuid();
  });

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

    // Saved offline: the visit waits in the queue (below), not as a draft.
    form.promoDraftForget = function () {
      clearTimeout(timer);
      store.removeItem(key);
      if (notice) { notice.hidden = true; }
    };

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

  // Offline capture (离线登记走访, issue #15). A visit saved without a connection waits in this
  // browser's IndexedDB, under its officer, with the form's fields and its submission key, and
  // is sent when the connection returns (the `online` event, and every page load). An item
  // leaves the queue only when the server answers that it has the visit — saved now or
  // earlier under the same key, so a send whose answer was lost and is repeated still makes
  // one visit. A visit the server refuses stays, with the server's reasons, until the officer
  // corrects it in the form or deletes it. Another officer signed in on the same phone
  // neither sees nor sends it (and the server refuses a queue named for someone else); signing
  // out deletes the officer's queue after asking, and the kept copy of the form.
  var QUEUE_DB = "promo-offline";
  var QUEUE_STORE = "visits";
  var FORM_CACHE = "promo-form";
  var queueText = document.getElementById("promo-queue-text");
  var queueCount = 0;

  function say(name) { return (queueText && queueText.getAttribute("data-" + name)) || ""; }

  function queueTx(mode, work) {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("IndexedDB")); return; }
      var open = indexedDB.open(QUEUE_DB, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(QUEUE_STORE, { keyPath: "key" }); };
      open.onerror = function () { reject(open.error); };
      open.onsuccess = function () {
        var db = open.result;
        var tx = db.transaction(QUEUE_STORE, mode);
        var request = work(tx.objectStore(QUEUE_STORE));
        var result;
        if (request) { request.onsuccess = function () { result = request.result; }; }
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      };
    });
  }
  function queueMine() {
    return queueTx("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || [])
        .filter(function (item) { return item.officer === officer; })
        .sort(function (a, b) { return a.at - b.at; });
    });
  }
  function queuePut(item) { return queueTx("readwrite", function (s) { return s.put(item); }); }
  function queueDelete(key) { return queueTx("readwrite", function (s) { return s.delete(key); }); }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name='csrfmiddlewaretoken']");
    return input ? input.value : "";
  }

  function describe(form) {
    var parts = [];
    var investor = form.querySelector("[name='investor']");
    var chosen = investor && investor.options[investor.selectedIndex];
    var typed = form.querySelector("[name='new_investor_name']");
    if (chosen && chosen.value) { parts.push(chosen.text); } else if (typed && typed.value.trim()) { parts.push(typed.value.trim()); }
    var day = form.querySelector("[name='visited_on']");
    if (day && day.value) { parts.push(day.value); }
    var summary = form.querySelector("[name='summary']");
    if (summary && summary.value.trim()) { parts.push(summary.value.trim().slice(0, 40)); }
    return parts.join(" · ");
  }

  function bodyOf(item) {
    var body = new URLSearchParams();
    item.fields.forEach(function (f) {
      if (f.values) { f.values.forEach(function (v) { body.append(f.name, v); }); }
      else if (f.checked !== undefined) { if (f.checked) { body.append(f.name, f.value); } }
      else { body.append(f.name, f.value); }
    });
    return body;
  }

  function sendOne(item) {
    return fetch(say("url"), {
      method: "POST",
      credentials: "same-origin",
      // A redirect here is the sign-in page (the session ended): keep the visit for later.
      redirect: "manual",
      headers: { "X-CSRFToken": csrfToken(), "X-Promo-Queue": item.officer, Accept: "application/json" },
      body: bodyOf(item)
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 403) {
        item.state = "signin";
        return queuePut(item);
      }
      if (response.status >= 500) { return null; }  // the server's trouble: try again later
      return response.json().then(function (answer) {
        if (answer && answer.saved) { return queueDelete(item.key); }
        item.state = "refused";
        item.errors = (answer && (answer.errors || [answer.message])) || [];
        return queuePut(item);
      }, function () {
        item.state = "refused";
        item.errors = [say("refused") + " (" + response.status + ")"];
        return queuePut(item);
      });
    }, function () { return null; });  // no connection after all: it waits
  }

  function showQueue() {
    if (!officer) { return Promise.resolve(); }
    return queueMine().then(function (items) {
      queueCount = items.length;
      document.querySelectorAll("[data-queue-count]").forEach(function (el) {
        el.hidden = !items.length;
        el.setAttribute("data-count", String(items.length));
        var n = el.querySelector("[data-queue-n]");
        if (n) { n.textContent = String(items.length); }
      });
      document.querySelectorAll("[data-queue]").forEach(function (section) {
        section.hidden = !items.length;
        var list = section.querySelector("[data-queue-list]");
        if (!list) { return; }
        list.textContent = "";
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.setAttribute("data-queue-item", item.key);
          li.setAttribute("data-state", item.state);
          var title = document.createElement("strong");
          title.textContent = item.label || item.key;
          li.appendChild(title);
          var state = document.createElement("span");
          state.className = "meta";
          state.textContent = say(item.state === "refused" ? "refused" : item.state === "signin" ? "signin" : "waiting");
          li.appendChild(state);
          if (item.state === "refused") {
            li.className = "refused";
            var errors = document.createElement("ul");
            errors.className = "errorlist";
            (item.errors || []).forEach(function (message) {
              var e = document.createElement("li");
              e.textContent = message;
              errors.appendChild(e);
            });
            li.appendChild(errors);
            var form = document.querySelector("form[data-offline]");
            var actions = document.createElement("div");
            actions.className = "actions";
            if (form) {
              var edit = document.createElement("button");
              edit.type = "button";
              edit.className = "small";
              edit.textContent = say("edit");
              edit.addEventListener("click", function () {
                // Back into the form with its key (the server never saved it), to correct
                // and send as any visit.
                putBack(form, item.fields);
                queueDelete(item.key).then(showQueue);
                form.scrollIntoView();
              });
              actions.appendChild(edit);
            }
            var drop = document.createElement("button");
            drop.type = "button";
            drop.className = "small";
            drop.textContent = say("delete");
            drop.addEventListener("click", function () { queueDelete(item.key).then(showQueue); });
            actions.appendChild(drop);
            li.appendChild(actions);
          }
          list.appendChild(li);
        });
      });
    }).catch(function () { /* no IndexedDB: nothing was queued */ });
  }

  var sending = null;
  function sendQueue() {
    if (!officer || !navigator.onLine) { return showQueue(); }
    if (sending) { return sending; }  // one pass at a time: never two sends of one item at once
    sending = queueMine()
      .then(function (items) {
        return items.reduce(function (done, item) {
          return done.then(function () { return item.state === "refused" ? null : sendOne(item); });
        }, Promise.resolve());
      })
      .catch(function () { return null; })
      .then(function () { sending = null; return showQueue(); });
    return sending;
  }

  document.querySelectorAll("form[data-offline]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      // Online the form goes as always; a second tap the guard above stopped stays stopped.
      if (navigator.onLine || event.defaultPrevented || !officer) { return; }
      if (event.submitter && event.submitter.getAttribute("formaction")) { return; }
      event.preventDefault();
      var submission = form.querySelector("[name='submission']");
      if (!/^[0-9a-f-]{36}$/.test(submission.value)) { submission.value = uuid(); }
      var status = form.querySelector("[data-queue-status]");
      var item = {
        key: submission.value, officer: officer, at: Date.now(), fields: fieldsOf(form),
        label: describe(form), state: "waiting", errors: []
      };
      queuePut(item).then(function () {
        // A clean form for the next visit, with a key of its own.
        if (form.promoDraftForget) { form.promoDraftForget(); }
        form.reset();
        submission.value = uuid();
        if (status) { status.textContent = say("saved"); status.hidden = false; }
        window.scrollTo(0, 0);
        return showQueue();
      }, function () {
        // IndexedDB refused (private mode, storage full): the draft still holds the text.
        if (status) { status.textContent = say("unsaved"); status.hidden = false; }
      }).then(function () { form.removeAttribute("data-sending"); });
    });
  });

  if (officer) {
    window.addEventListener("online", sendQueue);
    sendQueue();
  }

  // The service worker keeps the visit form for offline use (its scope is the site: /sw.js).
  var workerUrl = document.body && document.body.getAttribute("data-sw");
  if (officer && workerUrl && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch(function () { return null; });
  }
  if (window.caches) {
    // The kept form is one officer's page (their investors, their session's token): another
    // officer's, or a signed-out page, drops it; the next visit to the form keeps the new one.
    var keptFor = null;
    try { keptFor = localStorage.getItem("promo-form-officer"); } catch (e) { keptFor = null; }
    if ((officer || "") !== (keptFor || "")) {
      caches.delete(FORM_CACHE).then(function () {
        try {
          if (officer) { localStorage.setItem("promo-form-officer", officer); }
          else { localStorage.removeItem("promo-form-officer"); }
        } catch (e) { /* storage refused */ }
        if (!officer || !navigator.onLine) { return null; }
        return fetch(say("url"), { credentials: "same-origin", redirect: "manual" }).then(function (response) {
          if (!response.ok || response.redirected || response.type !== "basic") { return null; }
          return caches.open(FORM_CACHE).then(function (cache) { return cache.put(say("url"), response); });
        });
      }).catch(function () { return null; });
    }
  }

  // Signing out: this officer's unsent visits go too (after asking), with the kept form.
  document.querySelectorAll("form[data-drafts-clear]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!officer || event.defaultPrevented) { return; }
      event.preventDefault();
      if (queueCount && !window.confirm(say("leave").replace("{n}", String(queueCount)))) {
        form.removeAttribute("data-sending");
        return;
      }
      var mine = queueMine().then(function (items) {
        return Promise.all(items.map(function (item) { return queueDelete(item.key); }));
      });
      var kept = window.caches ? caches.delete(FORM_CACHE) : Promise.resolve();
      Promise.all([mine, kept]).catch(function () { return null; }).then(function () {
        try { localStorage.removeItem("promo-form-officer"); } catch (e) { /* refused */ }
        form.submit();
      });
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
