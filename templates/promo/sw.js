/* promo's service worker (离线登记走访, issue #15), served from /sw.js so that its scope is
   the whole site. It keeps two things, nothing more:
   - the app shell: promo's own CSS, JS and icons (their addresses carry the files' hashes
     in production, so a deploy makes a new cache name and the old one is dropped);
   - the visit form (/visits/new/) as this officer last saw it online, so that it opens
     without a connection. Every other page goes to the network as before.
   Visits saved offline are not kept here: the page stores them in IndexedDB and sends
   them itself (static/promo/promo.js), with their submission keys. */
"use strict";

var VERSION = "{{ version }}";
var SHELL = "promo-shell-" + VERSION;
var FORM = "promo-form";
var FORM_URL = "{{ form_url }}";
var SHELL_URLS = [{% for url in shell %}"{{ url }}"{% if not forloop.last %}, {% endif %}{% endfor %}];

// Only a real page of the signed-in officer is kept: a redirect (to the sign-in page) or an
// error is not.
function keepable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

function keepForm(response) {
  if (!keepable(response)) { return Promise.resolve(); }
  return caches.open(FORM).then(function (cache) { return cache.put(FORM_URL, response); });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL)
      .then(function (cache) { return cache.addAll(SHELL_URLS); })
      .then(function () {
        // The form too, when a signed-in officer's page installed the worker.
        return fetch(FORM_URL, { credentials: "same-origin", redirect: "manual" })
          .then(keepForm)
          .catch(function () { /* offline while installing: kept at the next visit */ });
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.map(function (name) {
          if (name.indexOf("promo-shell-") === 0 && name !== SHELL) { return caches.delete(name); }
          return null;
        }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === FORM_URL) {
    if (request.method === "GET") {
      // Network first: online the officer gets a fresh form (and the kept copy follows it);
      // offline, the kept copy.
      event.respondWith(
        fetch(request)
          .then(function (response) {
            // The plain form only: one opened from a lead's page carries that lead.
            if (!url.search) { event.waitUntil(keepForm(response.clone())); }
            return response;
          })
          .catch(function () {
            return caches.match(FORM_URL, { cacheName: FORM }).then(function (kept) {
              return kept || Response.error();
            });
          })
      );
      return;
    }
    if (request.method === "POST") {
      // The connection dropped while the form was on its way (the browser still thought it
      // was online): the kept form instead of the browser's error page; the page puts the
      // typed text back from its draft, with the same submission key.
      event.respondWith(
        fetch(request).catch(function () {
          return caches.match(FORM_URL, { cacheName: FORM }).then(function (kept) {
            return kept || Response.error();
          });
        })
      );
      return;
    }
  }
  if (request.method === "GET" && SHELL_URLS.indexOf(url.pathname) !== -1) {
    event.respondWith(
      caches.match(request, { cacheName: SHELL }).then(function (hit) { return hit || fetch(request); })
    );
  }
});
