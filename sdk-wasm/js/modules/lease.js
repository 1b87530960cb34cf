// Optional module: the durable queue's drain lock where Web Locks are missing (browsers before
// 2022, insecure origins). js/dom.js fetches it (sightline-lease.js) only there. Every tab of
// the site shares the queue and one at a time drains it: here, the tab whose 30 s lease record
// `sl_ql` in localStorage survived; it renews the lease while it drains and removes it when it
// stops (or the lease runs out, if the tab dies).

/**
 * `grant(release, renew)` when this tab may drain, `deny()` when another tab holds the lease.
 */
export default function (grant, deny) {
  var s, now = Date.now(), mine = '' + (now + 3e4 + Math.random());
  function take() {
    grant(function () { try { s.removeItem('sl_ql'); } catch (x) {} },
      function () { try { s.setItem('sl_ql', Date.now() + 3e4); } catch (x) {} });
  }
  try {
    s = localStorage;
    if (+s.getItem('sl_ql') > now) return deny();
    s.setItem('sl_ql', mine);
    // Tabs that both saw no lease both wrote one: the last write wins once every tab sees it.
    return setTimeout(function () { s.getItem('sl_ql') == mine ? take() : deny(); }, 50);
  } catch (x) {}
  grant(function () {}); // no localStorage: nothing to share with other tabs
}
