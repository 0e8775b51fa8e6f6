// The candidate's exam page (人机对话考试). Plain script, no framework.
//
// Every change is saved at once with a per-attempt sequence number. Until the server
// acknowledges a save (after its commit), the save stays in a queue kept in localStorage, so a
// network cut, a crash or a reload loses nothing: the queue is sent again, in order, and the
// server keeps the highest sequence per item. "已保存" is shown only for acknowledged answers.
//
// The same page serves practice (模拟练习): the root element's data attributes say where its
// JSON routes are (data-api, default /exam/api), where to go after submitting (data-receipt),
// where to sign in again (data-login), and whether the clock counts down to the end of the
// sitting or shows the time spent (data-clock="elapsed").
(function () {
  'use strict';

  // The receipt page only needs its print button.
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
  var root = document.getElementById('exam');
  if (!root) { return; }

  var csrf = root.getAttribute('data-csrf');
  var attempt = root.getAttribute('data-attempt');
  var apiBase = root.getAttribute('data-api') || '/exam/api';
  var receiptUrl = root.getAttribute('data-receipt') || '/exam/receipt';
  var loginUrl = root.getAttribute('data-login') || '/exam/login';
  var elapsedClock = root.getAttribute('data-clock') === 'elapsed';
  var storeKey = (root.getAttribute('data-store') || 'gk-exam-') + attempt;
  var LETTERS = 'ABCDEFGH';
  var MAX_BATCH = 200;

  var items = [];
  var answers = {};       // position -> {answer, flagged, seq, acked}
  var queue = [];         // unsent saves, oldest first
  var lastSeq = 0;
  var current = 0;
  var inflight = false;
  var retryDelay = 1000;
  var endAt = null;       // performance.now() at which time runs out
  var paused = false;
  var finished = false;
  var warned = {};

  function $(id) { return document.getElementById(id); }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storeKey) || '{}');
      queue = Array.isArray(saved.queue) ? saved.queue : [];
      lastSeq = saved.lastSeq || 0;
    } catch (e) { queue = []; }
  }

  function persist() {
    try { window.localStorage.setItem(storeKey, JSON.stringify({ queue: queue, lastSeq: lastSeq })); } catch (e) { /* full or disabled: the queue stays in memory */ }
  }

  function alertText(text) {
    var a = $('alert');
    a.textContent = text;
    a.hidden = !text;
  }

  function netText(text, bad) {
    var n = $('net');
    n.textContent = text;
    n.className = bad ? 'net bad' : 'net';
  }

  function api(method, path, body) {
    var opts = { method: method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(apiBase + path, opts).then(function (r) {
      if (r.status === 401) { window.location.href = loginUrl; throw new Error('login'); }
      return r.json().then(function (j) { return { status: r.status, body: j }; }, function () { return { status: r.status, body: {} }; });
    });
  }

  // ---- the clock ---------------------------------------------------------------------------
  var startedAt = null;   // performance.now() at which the practice began (elapsed clock)

  function setClock(state) {
    if (elapsedClock) {
      startedAt = performance.now() - (state.elapsed_ms || 0);
      tick();
      return;
    }
    paused = state.paused;
    lastRemaining = state.remaining_ms;
    endAt = performance.now() + state.remaining_ms;
    tick();
  }

  function remaining() { return endAt === null ? 0 : Math.max(0, endAt - performance.now()); }

  function tick() {
    if (elapsedClock) {
      if (startedAt !== null && !finished) { $('timer').textContent = '已用时间 ' + fmt(performance.now() - startedAt); }
      return;
    }
    if (endAt === null || finished) { return; }
    if (paused) {
      // The clock stands still: keep the same remaining time.
      endAt = performance.now() + lastRemaining;
      $('timer').textContent = '考试已暂停 剩余 ' + fmt(lastRemaining);
      return;
    }
    var ms = remaining();
    lastRemaining = ms;
    $('timer').textContent = '剩余时间 ' + fmt(ms);
    if (ms <= 15 * 60000 && !warned[15] && ms > 5 * 60000) { warned[15] = true; alertText('距考试结束还有15分钟，请合理安排时间。'); }
    if (ms <= 5 * 60000 && !warned[5]) { warned[5] = true; alertText('距考试结束还有5分钟，请检查答案；时间到系统将自动交卷。'); }
    if (ms === 0) { timeUp(); }
  }
  var lastRemaining = 0;

  function fmt(ms) {
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    return (h > 0 ? h + ':' : '') + (m < 10 && h > 0 ? '0' : '') + m + ':' + (sec < 10 ? '0' : '') + sec;
  }

  function timeUp() {
    setInputsDisabled(true);
    alertText('考试时间到，系统正在自动交卷，请勿操作。');
    flush();
    pollUntilFinished();
  }

  function pollUntilFinished() {
    api('GET', '/state').then(function (r) {
      if (r.status === 200 && (r.body.status === 'submitted' || r.body.status === 'ended' || r.body.status === 'absent')) {
        showFinished(r.body);
      } else {
        if (r.status === 200 && r.body.remaining_ms > 0) { setClock(r.body); setInputsDisabled(false); alertText(''); return; }
        window.setTimeout(pollUntilFinished, 3000);
      }
    }, function () { window.setTimeout(pollUntilFinished, 3000); });
  }

  // ---- saving ------------------------------------------------------------------------------
  function record(position, answer, flagged) {
    lastSeq += 1;
    var save = { seq: lastSeq, position: position, answer: answer, flagged: flagged };
    answers[position] = { answer: answer, flagged: flagged, seq: lastSeq, acked: false };
    queue.push(save);
    persist();
    renderGrid();
    renderSaved();
    flush();
  }

  function flush() {
    if (inflight || queue.length === 0) { return; }
    inflight = true;
    var batch = queue.slice(0, MAX_BATCH);
    api('POST', '/save', { attempt: Number(attempt), saves: batch }).then(function (r) {
      inflight = false;
      if (r.status === 200) {
        var acked = {};
        r.body.acked.forEach(function (s) { acked[s] = true; });
        queue = queue.filter(function (s) { return !acked[s.seq]; });
        batch.forEach(function (s) {
          var a = answers[s.position];
          if (a && a.seq <= s.seq) { a.acked = true; }
        });
        persist();
        retryDelay = 1000;
        netText(queue.length ? '正在保存…' : '', false);
        renderGrid();
        renderSaved();
        if (queue.length) { flush(); }
      } else if (r.status === 409) {
        // The attempt ended (time up, submitted elsewhere, or ended by the proctor).
        alertText(r.body.error ? r.body.error.message : '考试已结束');
        pollUntilFinished();
      } else if (r.status === 422) {
        // A save the server refuses will never pass: drop it rather than block the queue.
        queue = queue.filter(function (s) { return batch.indexOf(s) < 0; });
        persist();
        alertText(r.body.error ? r.body.error.message : '答案格式不正确');
        flush();
      } else {
        offline();
      }
    }, function () {
      inflight = false;
      offline();
    });
  }

  function offline() {
    netText('网络中断，答案已暂存，恢复后自动提交', true);
    window.setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 5000);
  }

  window.addEventListener('online', function () { retryDelay = 1000; flush(); });

  // ---- rendering ---------------------------------------------------------------------------
  function isAnswered(p) { return answers[p] && answers[p].answer !== ''; }

  function renderGrid() {
    var ol = $('grid');
    if (ol.children.length !== items.length) {
      ol.textContent = '';
      items.forEach(function (it, i) {
        var li = document.createElement('li');
        var b = document.createElement('button');
        b.type = 'button';
        b.id = 'goto-' + (i + 1);
        b.addEventListener('click', function () { show(i); });
        li.appendChild(b);
        ol.appendChild(li);
      });
    }
    items.forEach(function (it, i) {
      var b = ol.children[i].firstChild;
      var marks = (isAnswered(i) ? '✓' : '') + (answers[i] && answers[i].flagged ? '⚑' : '');
      b.textContent = (i + 1) + marks;
      var state = [isAnswered(i) ? '已答' : '未答'];
      if (answers[i] && answers[i].flagged) { state.push('已标记'); }
      if (i === current) { state.push('当前题'); }
      b.setAttribute('aria-label', '第' + (i + 1) + '题，' + state.join('，'));
      b.className = (isAnswered(i) ? 'answered ' : '') + (answers[i] && answers[i].flagged ? 'flagged ' : '') + (i === current ? 'current' : '');
      if (i === current) { b.setAttribute('aria-current', 'true'); } else { b.removeAttribute('aria-current'); }
    });
  }

  function renderSaved() {
    var a = answers[current];
    var el = $('item-saved');
    if (!a) { el.textContent = ''; return; }
    el.textContent = a.acked ? '已保存' : '保存中…';
    el.className = a.acked ? 'saved ok' : 'saved';
  }

  function show(i) {
    if (i < 0 || i >= items.length) { return; }
    current = i;
    var it = items[i];
    $('item-title').textContent = '第' + (i + 1) + '题（' + it.kind_label + '，' + it.points + '分）';
    $('stem').textContent = it.stem;
    var list = $('option-list');
    list.textContent = '';
    var choice = it.kind === 'single_choice' || it.kind === 'multiple_choice' || it.kind === 'true_false';
    $('options').hidden = !choice;
    $('text-wrap').hidden = choice;
    var given = answers[i] ? answers[i].answer : '';
    if (choice) {
      $('options-legend').textContent = it.kind === 'multiple_choice' ? '选项（可多选）' : '选项';
      it.options.forEach(function (text, k) {
        var letter = LETTERS.charAt(k);
        var label = document.createElement('label');
        label.className = 'option';
        var input = document.createElement('input');
        input.type = it.kind === 'multiple_choice' ? 'checkbox' : 'radio';
        input.name = 'option';
        input.value = letter;
        input.id = 'option-' + letter;
        input.checked = given.indexOf(letter) >= 0;
        input.addEventListener('change', function () { choose(); });
        label.appendChild(input);
        label.appendChild(document.createTextNode(' ' + letter + '. ' + text));
        list.appendChild(label);
      });
    } else {
      $('text-answer').value = given;
    }
    $('flag').checked = !!(answers[i] && answers[i].flagged);
    $('prev').disabled = i === 0;
    $('next').disabled = i === items.length - 1;
    renderGrid();
    renderSaved();
  }

  function choose() {
    var picked = '';
    document.querySelectorAll('#option-list input').forEach(function (input) { if (input.checked) { picked += input.value; } });
    record(current, picked, $('flag').checked);
  }

  var textTimer = null;
  function textChanged() {
    // Typing is saved after a short pause, and at once on leaving the field.
    window.clearTimeout(textTimer);
    textTimer = window.setTimeout(commitText, 800);
  }
  function commitText() {
    window.clearTimeout(textTimer);
    var value = $('text-answer').value;
    var before = answers[current] ? answers[current].answer : '';
    if (value !== before) { record(current, value, $('flag').checked); }
  }

  function setInputsDisabled(disabled) {
    document.querySelectorAll('#item input, #item textarea, #submit-open').forEach(function (el) { el.disabled = disabled; });
  }

  // ---- submitting --------------------------------------------------------------------------
  function openSubmit() {
    commitTextIfAny();
    // The server's clock decides whether submission is open yet.
    api('GET', '/state').then(function (r) {
      if (r.status !== 200) { alertText('暂时无法连接服务器，请稍后再交卷。'); return; }
      setClock(r.body);
      if (r.body.submit_in_ms > 0) {
        alertText('尚未到允许交卷的时间，还需' + Math.ceil(r.body.submit_in_ms / 60000) + '分钟。');
        return;
      }
      var missing = [];
      items.forEach(function (it, i) { if (!isAnswered(i)) { missing.push(i + 1); } });
      var text = missing.length ? '您还有 ' + missing.length + ' 题未作答：第' + missing.slice(0, 30).join('、') + (missing.length > 30 ? '…' : '') + '题。' : '全部题目均已作答。';
      if (queue.length) { text += '有 ' + queue.length + ' 条答案尚未保存，系统会先保存再交卷。'; }
      $('confirm-text').textContent = text + '交卷后不能再修改答案，确定交卷吗？';
      $('confirm').showModal();
    }, function () { alertText('网络中断，暂时不能交卷；答案已暂存，请稍后再试。'); });
  }

  function commitTextIfAny() { if (!$('text-wrap').hidden) { commitText(); } }

  function doSubmit() {
    $('submit-confirm').disabled = true;
    if (queue.length) {
      flush();
      window.setTimeout(doSubmit, 300);
      return;
    }
    api('POST', '/submit', {}).then(function (r) {
      $('submit-confirm').disabled = false;
      if (r.status === 200) {
        $('confirm').close();
        window.location.href = receiptUrl;
      } else {
        $('confirm').close();
        alertText(r.body.error ? r.body.error.message : '交卷失败，请重试');
      }
    }, function () {
      $('submit-confirm').disabled = false;
      alertText('网络中断，交卷未成功，请稍后重试或举手示意监考员。');
    });
  }

  function showFinished(state) {
    finished = true;
    $('answering').hidden = true;
    $('waiting').hidden = true;
    $('finished').hidden = false;
    $('finished-text').textContent = (elapsedClock ? '练习状态：' : '考试状态：') + state.status_label + '。';
    $('timer').textContent = '';
    try { window.localStorage.removeItem(storeKey); } catch (e) { /* nothing to clean */ }
  }

  // ---- start -------------------------------------------------------------------------------
  // While waiting, the server holds each request until the room starts (or 25 s pass), so the
  // paper appears the moment the proctor starts the room.
  function start(wait) {
    var asked = Date.now();
    api('GET', '/state' + (wait ? '?wait=25' : '')).then(function (r) {
      if (r.status !== 200) { window.setTimeout(start, 3000); return; }
      var s = r.body;
      if (s.status === 'answering') {
        openPaper();
      } else if (s.status === 'waiting') {
        $('waiting').hidden = false;
        $('waiting-text').textContent = s.room_started ? '正在进入考试…' : '请保持安静，等待监考员宣布开考。开考后本页面自动显示试题。';
        setClock(s);
        // An answer that came back at once (not confirmed yet, or a proxy that does not hold
        // requests) must not turn into a tight loop.
        window.setTimeout(function () { start(true); }, Date.now() - asked < 1000 ? 1000 : 0);
      } else {
        showFinished(s);
      }
    }, function () { netText('网络中断，正在重试…', true); window.setTimeout(start, 3000); });
  }

  function openPaper() {
    api('GET', '/paper').then(function (r) {
      if (r.status !== 200) { window.setTimeout(start, 2000); return; }
      var p = r.body;
      items = p.items;
      answers = {};
      p.answers.forEach(function (a) { answers[a.position] = { answer: a.answer, flagged: a.flagged, seq: a.seq, acked: true }; });
      // Saves still queued here are newer than what the server has, or were never sent.
      lastSeq = Math.max(lastSeq, p.last_seq);
      queue.forEach(function (s) {
        var a = answers[s.position];
        if (!a || a.seq < s.seq) { answers[s.position] = { answer: s.answer, flagged: s.flagged, seq: s.seq, acked: false }; }
      });
      persist();
      $('waiting').hidden = true;
      $('answering').hidden = false;
      setClock(p.state);
      show(0);
      if (p.state.paused) { alertText('考试已暂停，计时停止，请在座位上等待。'); setInputsDisabled(true); }
      $('item').focus();
      flush();
    }, function () { window.setTimeout(openPaper, 2000); });
  }

  function resync() {
    if (finished) { return; }
    api('GET', '/state').then(function (r) {
      if (r.status !== 200) { return; }
      if (r.body.status === 'submitted' || r.body.status === 'ended' || r.body.status === 'absent') { showFinished(r.body); return; }
      if (r.body.status === 'answering' && items.length) {
        var wasPaused = paused;
        setClock(r.body);
        if (r.body.paused && !wasPaused) { alertText('考试已暂停，计时停止，请在座位上等待。'); setInputsDisabled(true); }
        if (!r.body.paused && wasPaused) { alertText('考试已恢复，暂停时间已补回。'); setInputsDisabled(false); }
      }
    }, function () { /* the save queue reports the network */ });
  }

  document.addEventListener('keydown', function (e) {
    if (!items.length || finished || $('answering').hidden) { return; }
    if (e.target && e.target.tagName === 'TEXTAREA') { return; }
    if (e.key === 'PageDown') { e.preventDefault(); show(current + 1); }
    else if (e.key === 'PageUp') { e.preventDefault(); show(current - 1); }
    else if (!e.ctrlKey && !e.altKey && !e.metaKey && e.key.length === 1) {
      var k = LETTERS.indexOf(e.key.toUpperCase());
      var input = k >= 0 ? document.getElementById('option-' + LETTERS.charAt(k)) : null;
      if (input && !input.disabled) {
        e.preventDefault();
        if (input.type === 'radio') { input.checked = true; } else { input.checked = !input.checked; }
        choose();
      }
    }
  });

  $('prev').addEventListener('click', function () { commitTextIfAny(); show(current - 1); });
  $('next').addEventListener('click', function () { commitTextIfAny(); show(current + 1); });
  $('flag').addEventListener('change', function () {
    var a = answers[current];
    record(current, a ? a.answer : '', $('flag').checked);
  });
  $('text-answer').addEventListener('input', textChanged);
  $('text-answer').addEventListener('blur', commitText);
  $('submit-open').addEventListener('click', openSubmit);
  $('submit-confirm').addEventListener('click', doSubmit);
  $('submit-cancel').addEventListener('click', function () { $('confirm').close(); });
  $('bigger').addEventListener('click', function () {
    var on = document.body.classList.toggle('big-text');
    $('bigger').setAttribute('aria-pressed', on ? 'true' : 'false');
  });

  load();
  window.setInterval(tick, 1000);
  window.setInterval(resync, 15000);
  start();
})();
