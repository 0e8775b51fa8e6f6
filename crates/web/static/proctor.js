// The proctor's console refreshes its seat table, counts and clock every 5 seconds.
(function () {
  'use strict';
  var root = document.getElementById('console');
  if (!root) { return; }
  var url = '/proctor/rooms/' + root.getAttribute('data-room') + '/status?sitting=' + root.getAttribute('data-sitting');

  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
  }

  function render(c) {
    var body = document.getElementById('seat-rows');
    var rows = document.createDocumentFragment();
    c.seats.forEach(function (s) {
      var tr = document.createElement('tr');
      cell(tr, s.seat + (s.moved_to ? ' → ' + s.moved_to : ''));
      cell(tr, s.ticket_no);
      cell(tr, s.name);
      cell(tr, s.status_label, 'seat-status-' + s.status);
      cell(tr, s.answered + '/' + s.item_count);
      cell(tr, s.last_contact || '—');
      cell(tr, s.extension_minutes > 0 ? s.extension_minutes + '分钟' : '—');
      cell(tr, s.remaining);
      rows.appendChild(tr);
    });
    body.textContent = '';
    body.appendChild(rows);
    var counts = document.getElementById('counts');
    counts.textContent = '';
    c.counts.forEach(function (pair) {
      var span = document.createElement('span');
      span.textContent = pair[0] + '：';
      var strong = document.createElement('strong');
      strong.textContent = String(pair[1]);
      span.appendChild(strong);
      counts.appendChild(span);
    });
    document.getElementById('room-remaining').textContent = c.remaining;
  }

  function poll() {
    fetch(url, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) { if (c) { render(c); } })
      .catch(function () { /* next poll */ })
      .then(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 5000);
})();
