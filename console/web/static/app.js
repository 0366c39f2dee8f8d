// canhgac console: a small single-page app over the JSON API. Every visible
// text comes from the catalog served by GET /api/i18n, so this file
// contains no user-facing strings of its own.
'use strict';

const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
const STATUSES = ['open', 'acknowledged', 'closed'];
// REGIONS fills the alert filter until GET /api/alerts names the
// configured regions.
const REGIONS = ['dc1', 'dc2'];
const RANGES = ['15m', '1h', '24h', '7d', '30d', '1y'];
const SVG_NS = 'http://www.w3.org/2000/svg';

const state = { lang: 'vi', msgs: {}, me: null };

// t looks a text up in the catalog and fills %s and %d in order.
function t(key, ...args) {
  const text = Object.prototype.hasOwnProperty.call(state.msgs, key) ? state.msgs[key] : key;
  let i = 0;
  return text.replace(/%[sd]/g, () => String(args[i++] ?? ''));
}

// h builds an element: h('a', {href: '#'}, 'text', child).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && state.me && state.me.csrf_token) headers['X-CSRF-Token'] = state.me.csrf_token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || { code: 'http_' + res.status, message: res.statusText };
    if (res.status === 401 && path !== '/api/login' && state.me) {
      state.me = null;
      render();
    }
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

// ---- language ----

async function loadLang(lang) {
  const data = await api('GET', '/api/i18n' + qs({ lang }));
  state.msgs = data.messages;
  state.lang = data.lang;
  document.documentElement.lang = data.lang;
  document.getElementById('lang').value = data.lang;
  document.title = t('ui.app.name');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

async function switchLang(lang) {
  document.cookie = 'canhgac_lang=' + lang + '; Path=/; Max-Age=31536000; SameSite=Strict';
  await loadLang(lang);
  updateHeader();
  render();
}

// ---- formatting ----

function fmtTime(v) {
  if (!v) return t('ui.common.none');
  const d = new Date(v);
  if (isNaN(d)) return String(v);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '').replace('Z', '');
}

function get(doc, path) {
  let cur = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Object.prototype.hasOwnProperty.call(cur, part)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

function first(doc, ...paths) {
  for (const p of paths) {
    const v = get(doc, p);
    if (v !== undefined && v !== null && v !== '') return Array.isArray(v) ? v.join(', ') : String(v);
  }
  return '';
}

function levelBadge(level) {
  return h('span', { class: 'badge lvl-' + level }, t('ui.level.' + level));
}

function statusBadge(status) {
  return h('span', { class: 'status st-' + status }, t('ui.status.' + status));
}

function toast(text, isError) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = 'toast show' + (isError ? ' error' : '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.className = 'toast'; }, 4000);
}

function errorBox(err) {
  return h('p', { class: 'error-box', role: 'alert' }, t('ui.common.error', err.message));
}

// warningBanner shows the regions a result left out (the API's warnings,
// whose messages come in the request's language), or nothing.
function warningBanner(warnings) {
  if (!warnings || !warnings.length) return null;
  return h('div', { class: 'warning-box', role: 'alert', id: 'region-warnings' },
    warnings.map((w) => h('p', { 'data-region': w.region }, w.message)));
}

// ---- routing ----

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(safeDecode), params: new URLSearchParams(query || '') };
}

// safeDecode decodes a path segment, keeping a malformed one as typed.
function safeDecode(s) {
  try { return decodeURIComponent(s); } catch (_) { return s; }
}

// go opens a route. The same route again re-runs it, so submitting an
// unchanged search fetches fresh results.
function go(path, params) {
  const hash = '#/' + path + (params ? qs(params) : '');
  if (location.hash === hash) render();
  else location.hash = hash;
}

function updateHeader() {
  const signedIn = !!state.me;
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('signout').hidden = !signedIn;
  const who = document.getElementById('whoami');
  who.hidden = !signedIn;
  if (signedIn) who.textContent = t('ui.header.user', state.me.user, t('ui.role.' + state.me.role));
  const route = parseHash().parts[0] || 'overview';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.route === route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

let renderSeq = 0;

// render draws the view of the current hash. A view that finishes after a
// newer render started drops its output (renderSeq check).
async function render() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  updateHeader();
  const { parts, params } = parseHash();
  let view;
  if (!state.me) {
    view = viewLogin();
  } else {
    switch (parts[0]) {
      case 'alerts': view = parts[1] ? viewAlert(parts[1]) : viewAlerts(params); break;
      case 'search': view = viewSearch(params); break;
      case 'regions': view = viewRegions(); break;
      default: view = viewOverview(params);
    }
  }
  // A view that takes longer than 200 ms shows the loading text meanwhile.
  const slow = setTimeout(() => {
    if (seq === renderSeq) main.replaceChildren(h('p', { class: 'muted', role: 'status' }, t('ui.common.loading')));
  }, 200);
  const node = await view;
  clearTimeout(slow);
  if (seq !== renderSeq) return;
  main.replaceChildren(node);
}

// ---- sign-in ----

function viewLogin() {
  const error = h('div', { 'aria-live': 'assertive' });
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'login-card', id: 'login-form' },
    h('h1', {}, t('ui.login.title')),
    h('p', { class: 'muted' }, t('ui.app.tagline')),
    h('label', { for: 'login-user' }, t('ui.login.user')), user,
    h('label', { for: 'login-password' }, t('ui.login.password')), pass,
    error,
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('ui.login.submit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.replaceChildren();
    try {
      state.me = await api('POST', '/api/login', { user: user.value, password: pass.value });
      if (!location.hash || location.hash === '#/login') go('overview');
      else render();
    } catch (err) {
      error.replaceChildren(errorBox(err));
      pass.select();
    }
  });
  setTimeout(() => user.focus(), 0);
  return h('section', { class: 'login-wrap' }, form);
}

async function signOut() {
  try { await api('POST', '/api/logout'); } catch (_) { /* the session may already be gone */ }
  state.me = null;
  go('login');
  render();
}

// ---- time range picker ----

// rangePicker returns the controls and a read() that gives {from, to}:
// a preset yields relative times, "custom" the two UTC date-times.
function rangePicker(params, defaultRange) {
  const id = 'range-' + Math.random().toString(36).slice(2, 7);
  const select = h('select', { id },
    RANGES.map((r) => h('option', { value: r }, t('ui.range.' + r))),
    h('option', { value: 'custom' }, t('ui.range.custom')));
  const from = h('input', { type: 'datetime-local', id: id + '-from', step: '1', value: params.get('from') || '' });
  const to = h('input', { type: 'datetime-local', id: id + '-to', step: '1', value: params.get('to') || '' });
  select.value = params.get('from') ? 'custom' : (params.get('range') || defaultRange);
  const custom = h('span', { class: 'range-custom' },
    h('label', { for: from.id }, t('ui.range.from')), from,
    h('label', { for: to.id }, t('ui.range.to')), to);
  const sync = () => { from.disabled = to.disabled = select.value !== 'custom'; };
  select.addEventListener('change', sync);
  sync();
  const node = h('span', { class: 'range-picker' }, h('label', { for: id }, t('ui.range.label')), select, custom);
  const read = () => select.value === 'custom'
    ? { from: from.value, to: to.value, range: '' }
    : { from: '', to: '', range: select.value };
  return { node, read };
}

function rangeQuery(params, defaultRange) {
  if (params.get('from') || params.get('to')) return { from: params.get('from'), to: params.get('to') };
  return { from: 'now-' + (params.get('range') || defaultRange) };
}

// ---- overview ----

async function viewOverview(params) {
  const picker = rangePicker(params, '1h');
  const form = h('form', { class: 'toolbar' }, picker.node,
    h('button', { type: 'submit', class: 'btn' }, t('ui.common.apply')));
  form.addEventListener('submit', (e) => { e.preventDefault(); go('overview', picker.read()); });
  const section = h('section', {}, h('h1', {}, t('ui.overview.title')), form);
  let data;
  try {
    data = await api('GET', '/api/overview' + qs(rangeQuery(params, '1h')));
  } catch (err) {
    section.append(errorBox(err));
    return section;
  }
  const banner = warningBanner(data.warnings);
  if (banner) section.append(banner);
  const eventsPanel = h('div', { class: 'panel' },
    h('h2', {}, t('ui.overview.events_chart')),
    h('p', { class: 'muted' }, t('ui.overview.events_total', data.events_total), ' · ', t('ui.overview.interval', data.interval)),
    data.events_total > 0 ? eventsChart(data) : h('p', { class: 'muted' }, t('ui.overview.no_data')));
  const alertsPanel = h('div', { class: 'panel' },
    h('h2', {}, t('ui.overview.alerts_chart')),
    h('p', { class: 'muted' }, t('ui.overview.alerts_total', data.alerts_total)),
    alertsChart(data));
  section.append(h('div', { class: 'grid' }, eventsPanel, alertsPanel));
  return section;
}

// niceScale returns a round axis maximum at or above v and its four ticks.
function niceScale(v) {
  const raw = Math.max(1, v) / 4;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  step = Math.max(1, step);
  const max = step * Math.max(1, Math.ceil(v / step));
  const ticks = [];
  for (let x = 0; x <= max; x += step) ticks.push(x);
  return { max, ticks };
}

// eventsChart draws stacked bars: one bar per interval, one colour per
// dataset, with a legend.
function eventsChart(data) {
  const W = 720, H = 260, L = 48, R = 8, T = 10, B = 28;
  const n = data.buckets.length;
  const totals = data.buckets.map((b) => Object.values(b.counts).reduce((a, c) => a + c, 0));
  const { max, ticks } = niceScale(Math.max(1, ...totals));
  const bw = (W - L - R) / Math.max(1, n);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': t('ui.overview.events_chart') + ': ' + t('ui.overview.events_total', data.events_total) });
  for (const tick of ticks) {
    root.append(svg('line', { x1: L, x2: W - R, y1: y(tick), y2: y(tick), class: 'grid-line' }));
    root.append(svg('text', { x: L - 6, y: y(tick) + 4, class: 'axis-label', 'text-anchor': 'end' }, String(tick)));
  }
  data.buckets.forEach((b, i) => {
    let acc = 0;
    data.datasets.forEach((ds, di) => {
      const c = b.counts[ds] || 0;
      if (!c) return;
      const rect = svg('rect', { x: L + i * bw + 0.5, y: y(acc + c), width: Math.max(1, bw - 1), height: y(acc) - y(acc + c), class: 'ds-' + (di % 8) },
        svg('title', {}, `${fmtTime(b.start)} · ${ds}: ${c}`));
      root.append(rect);
      acc += c;
    });
  });
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  data.buckets.forEach((b, i) => {
    if (i % labelEvery) return;
    root.append(svg('text', { x: L + i * bw, y: H - 8, class: 'axis-label' }, fmtTime(b.start).slice(5, 16)));
  });
  root.append(svg('line', { x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'axis-line' }));
  const legend = h('ul', { class: 'legend' }, data.datasets.map((ds, di) =>
    h('li', {}, h('span', { class: 'swatch ds-' + (di % 8), 'aria-hidden': 'true' }), ds)));
  return h('figure', { class: 'chart-wrap' }, root, legend);
}

// alertsChart draws one bar per alert level.
function alertsChart(data) {
  const W = 360, H = 260, L = 40, R = 8, T = 18, B = 40;
  const counts = data.levels.map((l) => data.alerts_by_level[l] || 0);
  const { max, ticks } = niceScale(Math.max(1, ...counts));
  const slot = (W - L - R) / data.levels.length;
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': t('ui.overview.alerts_chart') + ': ' + data.levels.map((l, i) => t('ui.level.' + l) + ' ' + counts[i]).join(', ') });
  for (const tick of ticks) {
    root.append(svg('line', { x1: L, x2: W - R, y1: y(tick), y2: y(tick), class: 'grid-line' }));
    root.append(svg('text', { x: L - 6, y: y(tick) + 4, class: 'axis-label', 'text-anchor': 'end' }, String(tick)));
  }
  data.levels.forEach((l, i) => {
    const x = L + i * slot + slot * 0.15;
    const w = slot * 0.7;
    root.append(svg('rect', { x, y: y(counts[i]), width: w, height: y(0) - y(counts[i]), class: 'bar lvl-' + l },
      svg('title', {}, `${t('ui.level.' + l)}: ${counts[i]}`)));
    root.append(svg('text', { x: x + w / 2, y: y(counts[i]) - 4, class: 'bar-value', 'text-anchor': 'middle' }, String(counts[i])));
    root.append(svg('text', { x: x + w / 2, y: H - 22, class: 'axis-label', 'text-anchor': 'middle' }, t('ui.level.' + l)));
  });
  root.append(svg('line', { x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'axis-line' }));
  return h('figure', { class: 'chart-wrap' }, root);
}

// ---- alerts ----

function selectField(id, labelKey, values, textKey, current) {
  const sel = h('select', { id, name: id },
    h('option', { value: '' }, t('ui.common.any')),
    values.map((v) => h('option', { value: v }, textKey ? t(textKey + v) : v)));
  sel.value = current || '';
  return [h('label', { for: id }, t(labelKey)), sel];
}

function pager(total, limit, offset, onPage) {
  if (total <= limit && offset === 0) return null;
  const prev = h('button', { type: 'button', class: 'btn', disabled: offset <= 0 }, t('ui.pager.prev'));
  const next = h('button', { type: 'button', class: 'btn', disabled: offset + limit >= total }, t('ui.pager.next'));
  prev.addEventListener('click', () => onPage(Math.max(0, offset - limit)));
  next.addEventListener('click', () => onPage(offset + limit));
  return h('nav', { class: 'pager', 'aria-label': t('ui.pager.label') }, prev,
    h('span', {}, t('ui.pager.summary', total ? offset + 1 : 0, Math.min(total, offset + limit), total)), next);
}

async function viewAlerts(params) {
  const [levelLabel, level] = selectField('f-level', 'ui.alerts.level', LEVELS, 'ui.level.', params.get('level'));
  const [statusLabel, status] = selectField('f-status', 'ui.alerts.status', STATUSES, 'ui.status.', params.get('status'));
  const [regionLabel, region] = selectField('f-region', 'ui.alerts.region', REGIONS, null, params.get('region'));
  const form = h('form', { class: 'toolbar', 'aria-label': t('ui.alerts.filters') },
    levelLabel, level, statusLabel, status, regionLabel, region,
    h('button', { type: 'submit', class: 'btn' }, t('ui.common.apply')));
  const filters = () => ({ level: level.value, status: status.value, region: region.value });
  form.addEventListener('submit', (e) => { e.preventDefault(); go('alerts', filters()); });
  const section = h('section', {}, h('h1', {}, t('ui.alerts.title')), form);
  const offset = Number(params.get('offset') || 0);
  const limit = 50;
  let data;
  try {
    data = await api('GET', '/api/alerts' + qs({ ...filters(), limit, offset }));
  } catch (err) {
    section.append(errorBox(err));
    return section;
  }
  if (data.regions && data.regions.length) {
    const current = region.value;
    region.replaceChildren(h('option', { value: '' }, t('ui.common.any')),
      ...data.regions.map((r) => h('option', { value: r }, r)));
    region.value = current;
  }
  const banner = warningBanner(data.warnings);
  if (banner) section.append(banner);
  if (!data.alerts.length) {
    section.append(h('p', { class: 'muted' }, t('ui.alerts.empty')));
    return section;
  }
  const rows = data.alerts.map((a) => h('tr', {},
    h('td', { class: 'mono nowrap' }, fmtTime(a.last_seen)),
    h('td', {}, levelBadge(a.level)),
    h('td', { class: 'nowrap' }, h('a', { href: '#/alerts/' + encodeURIComponent(a.id) }, a.rule_name || a.rule_id)),
    h('td', {}, statusBadge(a.status)),
    h('td', {}, a.region || t('ui.common.none')),
    h('td', { class: 'num' }, String(a.count)),
    h('td', { class: 'mono small' }, keyFields(a.fields))));
  section.append(h('table', { class: 'table', 'aria-label': t('ui.alerts.table') },
    h('thead', {}, h('tr', {},
      ['ui.alerts.last_seen', 'ui.alerts.level', 'ui.alerts.rule', 'ui.alerts.status', 'ui.alerts.region', 'ui.alerts.count', 'ui.alerts.key_fields']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows)));
  const nav = pager(data.total, limit, offset, (o) => go('alerts', { ...filters(), offset: o }));
  if (nav) section.append(nav);
  return section;
}

function keyFields(fields) {
  if (!fields) return '';
  return Object.keys(fields).sort().map((k) => k + '=' + fields[k]).join('  ');
}

async function viewAlert(id) {
  const section = h('section', {}, h('p', {}, h('a', { href: '#/alerts' }, t('ui.alert.back'))));
  let data;
  try {
    data = await api('GET', '/api/alerts/' + encodeURIComponent(id));
  } catch (err) {
    section.append(errorBox(err));
    return section;
  }
  const a = data.alert;
  section.append(h('h1', {}, t('ui.alert.title'), ': ', a.rule_name || a.rule_id));
  const row = (key, value) => [h('dt', {}, t(key)), h('dd', {}, value)];
  section.append(h('dl', { class: 'props' },
    row('ui.alerts.level', levelBadge(a.level)),
    row('ui.alerts.status', statusBadge(a.status)),
    a.reason ? row('ui.alert.reason', a.reason) : null,
    row('ui.alert.rule_id', h('span', { class: 'mono' }, a.rule_id)),
    row('ui.alert.id', h('span', { class: 'mono' }, a.id)),
    row('ui.alerts.region', a.region || t('ui.common.none')),
    row('ui.alerts.first_seen', fmtTime(a.first_seen)),
    row('ui.alerts.last_seen', fmtTime(a.last_seen)),
    row('ui.alerts.count', String(a.count)),
    a.tactics && a.tactics.length ? row('ui.alert.tactics', a.tactics.map((x) => x.id + ' ' + x.name).join(', ')) : null,
    a.techniques && a.techniques.length ? row('ui.alert.techniques', a.techniques.join(', ')) : null,
    a.tags && a.tags.length ? row('ui.alert.tags', a.tags.join(', ')) : null,
    a.rule_status ? row('ui.alert.rule_status', a.rule_status) : null,
    a.falsepositives && a.falsepositives.length ? row('ui.alert.falsepositives', a.falsepositives.join('; ')) : null,
    row('ui.alerts.key_fields', h('span', { class: 'mono' }, keyFields(a.fields)))));
  section.append(alertActions(a));
  section.append(h('h2', {}, t('ui.alert.events', data.events.length)));
  section.append(eventsTable(data.events, t('ui.alert.events', data.events.length)));
  return section;
}

function alertActions(a) {
  const box = h('div', { class: 'actions' });
  if (!state.me.can_triage) {
    box.append(h('p', { class: 'muted' }, t('ui.alert.read_only')));
    return box;
  }
  if (a.status === 'closed') return box;
  const ack = h('button', { type: 'button', class: 'btn', id: 'alert-ack', disabled: a.status !== 'open' }, t('ui.alert.ack'));
  const close = h('button', { type: 'button', class: 'btn btn-danger', id: 'alert-close' }, t('ui.alert.close'));
  const reason = h('textarea', { id: 'close-reason', rows: '2', maxlength: '1000', required: true });
  const confirm = h('button', { type: 'submit', class: 'btn btn-danger', id: 'alert-close-confirm' }, t('ui.alert.close_confirm'));
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost' }, t('ui.common.cancel'));
  const form = h('form', { class: 'close-form', hidden: true },
    h('label', { for: 'close-reason' }, t('ui.alert.close_reason')), reason, h('div', {}, confirm, ' ', cancel));
  ack.addEventListener('click', async () => {
    try {
      await api('POST', '/api/alerts/' + encodeURIComponent(a.id) + '/ack');
      toast(t('ui.alert.acked'));
      render();
    } catch (err) { toast(t('ui.common.error', err.message), true); }
  });
  close.addEventListener('click', () => { form.hidden = false; reason.focus(); });
  cancel.addEventListener('click', () => { form.hidden = true; close.focus(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/api/alerts/' + encodeURIComponent(a.id) + '/close', { reason: reason.value });
      toast(t('ui.alert.closed'));
      render();
    } catch (err) { toast(t('ui.common.error', err.message), true); }
  });
  box.append(ack, ' ', close, form);
  return box;
}

// ---- events ----

const EVENT_COLUMNS = [
  ['ui.event.time', (d) => fmtTime(d['@timestamp']), 'mono nowrap'],
  ['ui.event.region', (d) => first(d, 'observer.geo.name'), 'nowrap'],
  ['ui.event.dataset', (d) => first(d, 'event.dataset'), 'nowrap'],
  ['ui.event.host', (d) => first(d, 'host.name', 'host.hostname', 'winlog.computer_name', 'observer.name'), 'nowrap'],
  ['ui.event.source', (d) => first(d, 'source.ip', 'source.address', 'client.ip'), 'mono nowrap'],
  ['ui.event.user', (d) => first(d, 'user.name', 'winlog.event_data.TargetUserName'), 'nowrap'],
  ['ui.event.message', (d) => first(d, 'message', 'event.original', 'event.action'), 'msg'],
];

function eventsTable(docs, label) {
  const rows = docs.map((d) => {
    const tr = h('tr', { tabindex: '0', class: 'clickable' },
      EVENT_COLUMNS.map(([, fn, cls]) => h('td', { class: cls }, fn(d))));
    tr.addEventListener('click', () => showEvent(d));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); showEvent(d); }
    });
    return tr;
  });
  return h('table', { class: 'table events', 'aria-label': label },
    h('thead', {}, h('tr', {}, EVENT_COLUMNS.map(([k]) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows));
}

// fieldTree renders a nested ECS document as nested definition lists,
// objects open by default. Each scalar value links to a search for events
// with the same value of the field (a pivot).
function fieldTree(obj, prefix) {
  const dl = h('dl', { class: 'tree' });
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    const field = prefix ? prefix + '.' + key : key;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      dl.append(h('div', { class: 'tree-obj' },
        h('details', { open: true }, h('summary', {}, key), fieldTree(v, field))));
      continue;
    }
    let value;
    if (Array.isArray(v)) {
      value = v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
    } else if (v === null || field === '@timestamp' || field === 'event.original' || field === 'message') {
      value = String(v);
    } else {
      value = h('a', { href: '#/search' + qs({ q: field + ':' + kqlQuote(String(v)), range: '24h' }),
        title: t('ui.event.pivot', field, String(v)) }, String(v));
    }
    dl.append(h('div', { class: 'tree-leaf' }, h('dt', {}, key), h('dd', {}, value)));
  }
  return dl;
}

// kqlQuote returns s as a quoted KQL value.
function kqlQuote(s) {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function showEvent(doc) {
  const dialog = document.getElementById('event-dialog');
  document.getElementById('event-dialog-body').replaceChildren(fieldTree(doc, ''));
  dialog.showModal();
}

// ---- search ----

async function viewSearch(params) {
  const query = h('input', { id: 'search-q', name: 'q', type: 'search', class: 'query', value: params.get('q') || '',
    placeholder: t('ui.search.placeholder'), spellcheck: 'false', autocomplete: 'off' });
  const picker = rangePicker(params, '15m');
  const form = h('form', { class: 'toolbar search-bar', role: 'search' },
    h('label', { for: 'search-q' }, t('ui.search.query')), query, picker.node,
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'search-submit' }, t('ui.search.submit')));
  form.addEventListener('submit', (e) => { e.preventDefault(); go('search', { q: query.value, ...picker.read() }); });
  const section = h('section', {}, h('h1', {}, t('ui.search.title')), form);
  if (!params.has('q') && !params.has('range') && !params.has('from')) {
    setTimeout(() => query.focus(), 0);
    return section;
  }
  const offset = Number(params.get('offset') || 0);
  const limit = 100;
  let data;
  try {
    data = await api('GET', '/api/search' + qs({ q: params.get('q'), ...rangeQuery(params, '15m'), limit, offset }));
  } catch (err) {
    section.append(errorBox(err));
    return section;
  }
  const banner = warningBanner(data.warnings);
  if (banner) section.append(banner);
  section.append(h('p', { class: 'muted', id: 'search-total' }, t('ui.search.total', data.total), ' · ', t('ui.search.hint')));
  if (!data.events.length) {
    section.append(h('p', { class: 'muted' }, t('ui.search.empty')));
    return section;
  }
  section.append(eventsTable(data.events, t('ui.search.table')));
  const nav = pager(data.total, limit, offset, (o) => go('search', { ...Object.fromEntries(params.entries()), offset: o }));
  if (nav) section.append(nav);
  return section;
}

// ---- regions ----

function healthBadge(health) {
  return h('span', { class: 'status health-' + health }, t('ui.health.' + health));
}

// fmtSeconds renders a lag as whole seconds, or the "none" mark.
function fmtSeconds(v) {
  return v === null || v === undefined ? t('ui.common.none') : t('ui.regions.seconds', Math.round(v));
}

async function viewRegions() {
  const section = h('section', {}, h('h1', {}, t('ui.regions.title')));
  let data;
  try {
    data = await api('GET', '/api/regions');
  } catch (err) {
    section.append(errorBox(err));
    return section;
  }
  if (!data.configured) {
    section.append(h('p', { class: 'muted' }, t('ui.regions.not_configured')));
    return section;
  }
  section.append(h('p', { class: 'muted' },
    t('ui.regions.legend', Math.round(data.late_after_seconds / 60), Math.round(data.silent_after_seconds / 60))));
  const columns = ['ui.regions.region', 'ui.regions.state', 'ui.regions.rate_5m', 'ui.regions.rate_15m',
    'ui.regions.last_ingested', 'ui.regions.lag', 'ui.regions.last_event', 'ui.regions.consumer_lag'];
  const rows = data.regions.map((r) => h('tr', { 'data-region': r.region },
    h('th', { scope: 'row' }, r.region),
    h('td', {}, r.reachable
      ? h('span', { class: 'status reachable' }, t('ui.regions.reachable'))
      : h('span', { class: 'status unreachable' }, t('ui.regions.unreachable', r.error))),
    h('td', { class: 'num' }, r.rate_5m.toFixed(1)),
    h('td', { class: 'num' }, r.rate_15m.toFixed(1)),
    h('td', { class: 'mono nowrap' }, fmtTime(isZeroTime(r.last_ingested) ? '' : r.last_ingested)),
    h('td', { class: 'num' }, fmtSeconds(r.lag_seconds)),
    h('td', { class: 'mono nowrap' }, fmtTime(isZeroTime(r.last_event) ? '' : r.last_event)),
    h('td', { class: 'num' }, r.consumer_lag === null ? t('ui.common.none') : String(r.consumer_lag))));
  section.append(h('table', { class: 'table', id: 'regions-table', 'aria-label': t('ui.regions.table') },
    h('thead', {}, h('tr', {}, columns.map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows)));
  for (const r of data.regions) {
    if (!r.reachable) continue;
    section.append(h('h2', {}, t('ui.regions.sensors', r.region)));
    if (!r.sensors.length) {
      section.append(h('p', { class: 'muted' }, t('ui.regions.no_sensors')));
      continue;
    }
    const sensorRows = r.sensors.map((s) => h('tr', { 'data-sensor': s.name },
      h('th', { scope: 'row' }, s.name),
      h('td', {}, healthBadge(s.health)),
      h('td', { class: 'mono nowrap' }, fmtTime(isZeroTime(s.last_event) ? '' : s.last_event)),
      h('td', { class: 'mono nowrap' }, fmtTime(isZeroTime(s.last_ingested) ? '' : s.last_ingested)),
      h('td', { class: 'num' }, String(s.events_15m))));
    section.append(h('table', { class: 'table sensors', 'aria-label': t('ui.regions.sensors', r.region) },
      h('thead', {}, h('tr', {}, ['ui.regions.sensor', 'ui.regions.health', 'ui.regions.last_event',
        'ui.regions.last_ingested', 'ui.regions.events_15m'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, sensorRows)));
  }
  return section;
}

// isZeroTime reports Go's zero time.Time, which the API sends for an
// unknown time.
function isZeroTime(v) {
  return !v || v.startsWith('0001-01-01');
}

// ---- start ----

async function start() {
  document.getElementById('lang').addEventListener('change', (e) => switchLang(e.target.value));
  document.getElementById('signout').addEventListener('click', signOut);
  document.getElementById('event-dialog-close').addEventListener('click', () => document.getElementById('event-dialog').close());
  window.addEventListener('hashchange', () => {
    const dialog = document.getElementById('event-dialog');
    if (dialog.open) dialog.close();
    render();
  });
  await loadLang('');
  try {
    state.me = await api('GET', '/api/me');
  } catch (_) {
    state.me = null;
  }
  render();
}

document.addEventListener('DOMContentLoaded', start);
