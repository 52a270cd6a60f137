// Ocenka rating widget: <script async src="https://HOST/widget.js" data-object="123"></script>
// One file, no dependencies, no cookies. It draws itself inside an open
// shadow root so that the host page's styles cannot break it, and it never
// writes to the host page outside its own element.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src).origin;
  var data = script.dataset;
  var QUEUE = 'ocenka:queue', DEVICE = 'ocenka:device';

  // Only what the widget says before its questionnaire is there; the rest of
  // its words come with the questionnaire, in the visitor's language.
  var WORDS = {
    ru: ['Оцените качество услуги', 'Организация не найдена.', 'Повторить', 'Не удалось загрузить анкету.',
      'Оценить услугу', 'Закрыть'],
    be: ['Ацаніце якасць паслугі', 'Арганізацыя не знойдзена.', 'Паўтарыць', 'Не ўдалося загрузіць анкету.',
      'Ацаніць паслугу', 'Закрыць'],
    en: ['Rate the quality of the service', 'Organization not found.', 'Try again',
      'The questionnaire could not be loaded.', 'Rate the service', 'Close'],
    tt: ['Хезмәт сыйфатын бәяләгез', 'Оешма табылмады.', 'Кабатлау', 'Сораулыкны йөкләп булмады.',
      'Хезмәтне бәяләү', 'Ябу']
  };
  var KEYS = 'title notFound retry loadFailed open close'.split(' ');

  function pickLang() {
    var tags = [data.lang, document.documentElement.lang].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < tags.length; i++) {
      var code = String(tags[i] || '').slice(0, 2).toLowerCase();
      if (WORDS[code]) return code;
    }
    return 'ru';
  }
  var lang = pickLang();
  var T = {};
  KEYS.forEach(function (k, i) { T[k] = WORDS[lang][i]; });

  // Storage may be switched off or throw in a sandboxed frame; the widget
  // still works without it, only the offline queue is lost.
  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* not kept */ }
  }
  function hex(n) {
    var a = crypto.getRandomValues(new Uint8Array(n)), s = '';
    for (var i = 0; i < n; i++) s += (a[i] + 256).toString(16).slice(1);
    return s;
  }
  // crypto.randomUUID exists only in secure contexts, and host pages are
  // not all served over HTTPS.
  function uuid() {
    var h = hex(16);
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-4' + h.slice(13, 16) + '-' +
      '89ab'[parseInt(h[16], 16) & 3] + h.slice(17, 20) + '-' + h.slice(20);
  }
  var device = load(DEVICE, '');
  if (!/^[0-9a-f]{32}$/.test(device)) { device = hex(16); save(DEVICE, device); }

  function post(payload) {
    return fetch(origin + '/api/v1/ratings', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(payload),
      credentials: 'omit'
    });
  }

  // Ratings made offline wait in the host site's localStorage, tagged with
  // our origin, and go out when the browser is back online.
  function queue(payload) {
    var items = load(QUEUE, []);
    if (!items.some(function (q) { return q.p.client_token === payload.client_token; })) {
      items.push({o: origin, p: payload});
      save(QUEUE, items);
    }
  }
  function unqueue(token) {
    save(QUEUE, load(QUEUE, []).filter(function (q) { return q.p.client_token !== token; }));
  }
  function flush(done) {
    load(QUEUE, []).forEach(function (q) {
      if (q.o !== origin) return;
      post(q.p).then(function (r) {
        // Anything but a passing failure is final: the server stored it or
        // will never take it, and keeping it would resend it for ever.
        if (r.status < 500 && r.status !== 429) { unqueue(q.p.client_token); if (r.ok && done) done(q.p); }
      }, function () { /* still offline */ });
    });
  }

  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] == null || attrs[k] === false) continue;
      if (k === 'text') el.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) el.appendChild(c); });
    return el;
  }

  // A criterion is one row of five score buttons (native radios under
  // their faces) with the chosen level's meaning below: four fit one phone
  // screen where stacked cards took almost two.
  var CSS = ':host{all:initial!important;display:block!important;contain:content}' +
    '.w{box-sizing:border-box;max-width:46em;margin:0;padding:16px;border:1px solid #c4c9d0;border-radius:8px;' +
    'background:#fff;color:#1a1a1a;text-align:left}' +
    '.w,.f{font:16px/1.45 system-ui,-apple-system,sans-serif}' +
    '.w *{box-sizing:border-box}input,textarea,button{font:inherit}' +
    'h2{margin:0 0 4px;font-size:1.2em;line-height:1.3}.o{margin:0 0 12px;color:#4a4f57}' +
    'fieldset{margin:0 0 16px;padding:0;border:0;min-width:0}legend{padding:0;margin:0 0 4px;font-weight:700;line-height:1.3}' +
    '.l{display:flex;flex-wrap:wrap;gap:6px}.l label{flex:1;min-width:2.75em;position:relative}' +
    '.l input{position:absolute;inset:0;width:100%;height:100%;margin:0;opacity:0;cursor:pointer}' +
    '.l span{display:block;padding:9px 0;border:1px solid #6b7280;border-radius:6px;text-align:center;font-weight:700}' +
    '.l label:hover span{border-color:#0b57d0}.l :checked+span{background:#0b57d0;border-color:#0b57d0;color:#fff}' +
    ':focus-visible+span,textarea:focus-visible,button:focus-visible,summary:focus-visible{outline:3px solid #b45309;outline-offset:2px}' +
    '.d{margin:4px 0 0;font-size:.9em;color:#4a4f57}' +
    '.r{margin:0 0 16px 4px;padding-left:10px;border-left:3px solid #b3261e}.r label{display:flex;gap:8px;padding:3px 0}' +
    '.r input{margin:4px 0 0;width:18px;height:18px;flex:none;accent-color:#0b57d0}' +
    'summary{padding:10px 0;color:#0b57d0;font-weight:700;cursor:pointer}' +
    'textarea{display:block;width:100%;min-height:5em;padding:8px;border:1px solid #6b7280;border-radius:6px;background:#fff;resize:vertical}' +
    '.c{font-size:.85em;color:#4a4f57;text-align:right;margin:2px 0 8px}' +
    'button{min-height:44px;padding:10px 18px;border:0;border-radius:6px;background:#0b57d0;color:#fff;font-weight:700;cursor:pointer}' +
    'button[disabled]{background:#5f6b7a}.rc{font-size:14px;overflow-wrap:anywhere}.x{background:#fff;color:#0b57d0;border:1px solid #0b57d0}' +
    '[role=status]:not(:empty){margin:12px 0 0;padding:8px 10px;border-radius:6px;background:#f3f5f8}.e[role=status]{background:#fdecea;color:#8c1d18}' +
    '.f{font-weight:700;position:fixed;right:16px;bottom:16px;z-index:2147483647;box-shadow:0 2px 8px rgba(0,0,0,.3)}' +
    'dialog{padding:0;border:0;background:transparent;width:46em;max-width:calc(100vw - 16px);max-height:calc(100vh - 16px)}dialog::backdrop{background:rgba(0,0,0,.5)}' +
    '.top{display:flex;justify-content:flex-end;margin-bottom:4px}[hidden]{display:none!important}';

  // A host page whose CSP forbids inline styles refuses a <style> element,
  // even inside the shadow root; a constructed stylesheet is not markup and
  // passes. One sheet serves every widget on the page.
  var sheet;
  function styled(root) {
    if ('adoptedStyleSheets' in root) {
      try {
        if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
        root.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* an engine without constructed sheets: the element below */ }
    }
    root.appendChild(h('style', {text: CSS}));
  }

  function Widget(host) {
    var root = host.attachShadow({mode: 'open'});
    styled(root);
    var box = h('section', {'class': 'w', lang: lang, 'aria-labelledby': 'h'});
    var status = h('p', {role: 'status', 'aria-live': 'polite'});
    var body = h('div');
    var form, pending = null, sending = false;
    box.appendChild(h('h2', {id: 'h', tabindex: '-1', text: T.title}));
    box.appendChild(body);
    box.appendChild(status);

    if (data.mode === 'button') {
      var dialog = h('dialog', {'aria-labelledby': 'h'}, [box]);
      box.insertBefore(h('div', {'class': 'top'}, [
        h('button', {type: 'button', 'class': 'x', onclick: function () { dialog.close(); }, text: T.close})]), box.firstChild);
      var opener = h('button', {type: 'button', 'class': 'f', 'aria-haspopup': 'dialog',
        onclick: function () { dialog.showModal(); }, text: T.open});
      // Several floating buttons on one page stand one above another, in
      // the order of their script tags, instead of covering each other.
      var floating = [].slice.call(document.querySelectorAll('script[data-mode="button"]'));
      opener.style.bottom = (16 + 60 * Math.max(0, floating.indexOf(script))) + 'px';
      root.appendChild(opener);
      root.appendChild(dialog);
    } else {
      root.appendChild(box);
    }

    function say(text, isError) {
      status.className = isError ? 'e' : '';
      status.textContent = text;
    }

    function start() {
      say('');
      if (!/^[1-9][0-9]{0,9}$/.test(data.object || '')) return say(T.notFound, true);
      fetch(origin + '/api/v1/objects/' + encodeURIComponent(data.object) + '/form?lang=' + lang,
        {credentials: 'omit'})
        .then(function (r) {
          if (r.status === 404) throw T.notFound;
          if (!r.ok) throw T.loadFailed;
          return r.json();
        })
        .then(draw, function (why) {
          say(typeof why === 'string' ? why : T.loadFailed, true);
          if (why !== T.notFound) body.replaceChildren(h('button', {type: 'button', onclick: start, text: T.retry}));
        });
    }

    // The radios are described by their levels' meanings, so that a screen
    // reader says it with each score; only the chosen one shows.
    function group(name, legend, values) {
      var id = 'g-' + name, row = h('div', {'class': 'l'}), said = [];
      var g = h('fieldset', {role: 'radiogroup', 'aria-labelledby': id}, [h('legend', {id: id, text: legend}), row]);
      values.forEach(function (v) {
        var d = v.label && h('p', {'class': 'd', id: id + v.value, hidden: true, text: v.label});
        row.appendChild(h('label', null, [
          h('input', {type: 'radio', name: name, value: v.value, 'aria-describedby': d && d.id}), h('span', {text: v.value})]));
        if (d) said.push(g.appendChild(d));
      });
      g.addEventListener('change', function (e) {
        said.forEach(function (d) { d.hidden = d.id !== id + e.target.value; });
      });
      return g;
    }

    function range(c) {
      var out = [];
      for (var v = c.min; v <= c.max; v++) out.push({value: v});
      return out;
    }

    function draw(q) {
      for (var k in q.words) T[k] = q.words[k];
      form = h('form', {novalidate: true, onsubmit: submit});
      form.q = q;
      body.replaceChildren(h('p', {'class': 'o', text: q.object.name}), form);
      q.criteria.forEach(function (c) {
        var g = form.appendChild(group(c.code, c.label, c.levels));
        if (c.reasons.length) {
          var reasons = form.appendChild(h('fieldset', {'class': 'r', hidden: true}, [h('legend', {text: T.reasons})].concat(
            c.reasons.map(function (r) {
              return h('label', null, [h('input', {type: 'checkbox', name: 'reason', value: r.code}), h('span', {text: r.label})]);
            }))));
          g.addEventListener('change', function (e) { reasons.hidden = +e.target.value !== c.min; });
        }
      });
      if (q.extra.length) {
        form.appendChild(h('fieldset', null, [h('legend', {text: T.extra})].concat(q.extra.map(function (c) {
          return group('x-' + c.code, c.label, range(c));
        }))));
      }
      // The comment is optional, so it stays folded behind one line.
      var counter = h('p', {'class': 'c', id: 'cc'});
      var text = h('textarea', {name: 'comment', maxlength: q.comment_max, 'aria-labelledby': 'cs', 'aria-describedby': 'cc', oninput: count});
      function count() { counter.textContent = T.count.replace('{n}', text.value.length).replace('{max}', q.comment_max); }
      count();
      form.appendChild(h('details', null, [h('summary', {id: 'cs', text: T.addComment}), text, counter]));
      form.appendChild(h('button', {type: 'submit', text: T.send}));
    }

    function value(name) {
      var el = form.querySelector('input[name="' + name + '"]:checked');
      return el ? +el.value : null;
    }

    function submit(e) {
      e.preventDefault();
      if (sending) return;
      var q = form.q, scores = {}, extra = {}, missing = null;
      q.criteria.forEach(function (c) {
        scores[c.code] = value(c.code);
        if (scores[c.code] == null && !missing) missing = c.code;
      });
      if (missing) {
        say(T.missing, true);
        form.querySelector('input[name="' + missing + '"]').focus();
        return;
      }
      q.extra.forEach(function (c) { var v = value('x-' + c.code); if (v != null) extra[c.code] = v; });
      var reasons = [];
      form.querySelectorAll('.r:not([hidden]) :checked').forEach(function (el) { reasons.push(el.value); });
      var comment = form.querySelector('textarea').value.trim();
      // The token is made once per rating and kept across retries, so that
      // a retry after a lost answer is counted once.
      pending = {
        object: +data.object, scores: scores, extra: extra, reasons: reasons, comment: comment || null,
        channel: 'widget', client_token: pending ? pending.client_token : uuid(), device_token: device
      };
      if (data.service) pending.service = +data.service;
      send();
    }

    function send() {
      var button = form.querySelector('button[type=submit]');
      if (!navigator.onLine) return offline();
      sending = true;
      button.disabled = true;
      button.textContent = T.sending;
      say('');
      post(pending).then(function (r) {
        if (r.ok) return r.json().then(function (b) { thanks(T.thanks, b.receipt); }, function () { thanks(T.thanks); });
        if (r.status === 429) {
          var m = Math.ceil(+r.headers.get('Retry-After') / 60);
          return fail(m ? T.limitMin.replace('{m}', m) : T.limit);
        }
        if (r.status === 404) return fail(T.notFound);
        if (r.status === 400 || r.status === 413) return fail(T.invalid);
        fail(T.failed, true);
      }, offline).then(function () {
        sending = false;
        button.disabled = false;
        button.textContent = T.send;
      });
    }

    function offline() {
      queue(pending);
      fail(T.offline);
    }

    function fail(text, retry) {
      say(text, true);
      if (retry) status.appendChild(h('span', null, [document.createTextNode(' '),
        h('button', {type: 'button', 'class': 'x', onclick: send, text: T.retry})]));
    }

    // Thanks first, then the receipt to check in the public ledger and the
    // organization's page; no "rate again": it invites repeats.
    function thanks(text, receipt) {
      if (pending) unqueue(pending.client_token);
      pending = null;
      var link = function (href, text) { return h('a', {href: origin + href, target: '_blank', rel: 'noopener', text: text}); };
      var parts = [h('p', null, [link('/objects/' + data.object + '?lang=' + lang, T.page)])];
      if (receipt) parts.unshift(h('p', {'class': 'rc'}, [
        document.createTextNode(T.receipt.replace('{seq}', receipt.seq) + ' '),
        link('/verify?seq=' + receipt.seq + '&hash=' + receipt.hash + '&lang=' + lang, T.check)]));
      body.replaceChildren.apply(body, parts);
      say(text);
      box.querySelector('h2').focus();
    }

    this.sent = function (payload) {
      if (pending && payload.client_token === pending.client_token) thanks(T.queuedSent);
    };
    start();
  }

  var target = data.container && document.querySelector(data.container);
  if (!target) {
    target = document.createElement('div');
    script.insertAdjacentElement('afterend', target);
  }
  target.setAttribute('data-ocenka', '');
  var widget = new Widget(target);
  function resend() { flush(widget.sent); }
  window.addEventListener('online', resend);
  resend();
})();
