// ftd's web console: the job list and a job page with live curves, on ftd's JSON API
// (docs/api.md). No framework: plain DOM, SVG drawn here, every byte served by ftd.
'use strict';

const TOKEN_KEY = 'ftd-token';
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
let view = { stop() {} };  // the page shown; stop() ends its timers and streams

function $(id) { return document.getElementById(id); }

// An element with attributes and children (strings become text: no HTML is ever parsed).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svgEl(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

class Unauthenticated extends Error {}

function authHeaders(extra) {
  const headers = Object.assign({}, extra);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  return headers;
}

// fetch() of the API; a 401 shows the login form, any other error throws with ftd's message.
async function api(path, options) {
  const opts = Object.assign({}, options);
  opts.headers = authHeaders(opts.headers);
  const response = await fetch(path, opts);
  if (response.status === 401) {
    const had = sessionStorage.getItem(TOKEN_KEY);
    showLogin(had ? 'That token was not accepted.' : '');
    throw new Unauthenticated();
  }
  if (!response.ok) {
    let message = response.status + ' ' + response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function showOnly(id) {
  for (const section of ['login', 'jobs', 'job']) $(section).hidden = section !== id;
  $('logout').hidden = id === 'login' || !sessionStorage.getItem(TOKEN_KEY);
}

function showLogin(message) {
  view.stop();
  view = { stop() {} };
  showOnly('login');
  $('login-error').textContent = message;
  $('login-error').hidden = !message;
  $('token').value = '';
  $('token').focus();
}

function fmt(value, digits) {
  return value === undefined || value === null ? '' : Number(value).toFixed(digits);
}

function latestEvaluation(job, split) {
  let best = null;
  for (const e of job.evaluations || []) {
    if (e.split === split && (!best || Number(e.step) >= Number(best.step))) best = e;
  }
  return best;
}

function progressText(job) {
  const p = job.progress || {};
  const total = Number(p.total_steps || 0);
  if (!total) return '';
  const percent = Math.floor(100 * Number(p.step) / total);
  return `step ${p.step}/${total} (${percent} %)`;
}

function time(stamp) { return stamp ? new Date(stamp).toLocaleString() : ''; }

// ---- the job list ------------------------------------------------------------------------

function showJobs() {
  showOnly('jobs');
  let timer = null;
  let stopped = false;
  async function refresh() {
    try {
      const page = await (await api('/api/v1/jobs?page_size=200')).json();
      if (stopped) return;
      renderJobs(page.jobs || []);
    } catch (e) {
      if (e instanceof Unauthenticated) return;
    }
    if (!stopped) timer = setTimeout(refresh, 2000);
  }
  refresh();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

function renderJobs(jobs) {
  const rows = jobs.map((job) => {
    const validation = latestEvaluation(job, 'validation');
    const row = el('tr', { class: 'link', 'data-job': job.id },
      el('td', {}, el('a', { href: '#/jobs/' + job.id }, job.id)),
      el('td', {}, job.spec.display_name || ''),
      el('td', {}, el('span', { class: 'state ' + job.state }, job.state)),
      el('td', {}, job.spec.model),
      el('td', {}, progressText(job)),
      el('td', {}, validation ? fmt(100 * validation.accuracy, 1) + ' %' : ''),
      el('td', {}, time(job.create_time)));
    row.addEventListener('click', () => { location.hash = '#/jobs/' + job.id; });
    return row;
  });
  $('job-rows').replaceChildren(...rows);
  $('no-jobs').hidden = jobs.length > 0;
}

// ---- the job page ------------------------------------------------------------------------

function showJob(id) {
  showOnly('job');
  const loss = [];      // [step, loss] per progress event
  const accuracy = [];  // [step, accuracy] per validation evaluation
  const controller = new AbortController();
  let stopped = false;
  $('job-title').textContent = id;
  $('job-error').hidden = true;
  drawChart($('loss-chart'), loss, null);
  drawChart($('accuracy-chart'), accuracy, [0, 1]);
  $('class-rows').replaceChildren();
  $('files').hidden = true;
  $('cancel').onclick = async () => {
    $('cancel').disabled = true;
    try {
      await api(`/api/v1/jobs/${encodeURIComponent(id)}:cancel`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'cancelled from the web console' }) });
      await refreshJob();
    } catch (e) {
      if (!(e instanceof Unauthenticated)) showError(e.message);
    }
  };

  function showError(message) {
    $('job-error').textContent = message;
    $('job-error').hidden = false;
  }

  async function refreshJob() {
    const job = await (await api('/api/v1/jobs/' + encodeURIComponent(id))).json();
    if (!stopped) renderJob(job);
    return job;
  }

  function onEvent(event) {
    if (event.progress) {
      loss.push([Number(event.progress.step), event.progress.loss]);
      drawChart($('loss-chart'), loss, null);
      $('job-progress').textContent = progressText({ progress: event.progress });
    } else if (event.evaluation) {
      if (event.evaluation.split === 'validation') {
        accuracy.push([Number(event.evaluation.step), event.evaluation.accuracy]);
        drawChart($('accuracy-chart'), accuracy, [0, 1]);
      }
      renderClasses(event.evaluation);
    } else if (event.state_change) {
      setState(event.state_change.to);
    }
  }

  async function follow() {
    try {
      const job = await refreshJob();
      const response = await api(`/api/v1/jobs/${encodeURIComponent(id)}/events`,
                                 { signal: controller.signal });
      await readEvents(response, onEvent);
      if (!ENDED.has(job.state)) await refreshJob();  // the stream ends when the job ends
      else renderJob(job);
      if (!stopped) await showFiles(id);
    } catch (e) {
      if (stopped || e instanceof Unauthenticated) return;
      showError(e.message);
    }
  }
  follow();
  return { stop() { stopped = true; controller.abort(); } };
}

const KINDS = { ARTIFACT_MODEL: 'model', ARTIFACT_CHECKPOINT: 'checkpoint',
  ARTIFACT_RESULT: 'result', ARTIFACT_LOG: 'log', ARTIFACT_OTHER: 'other' };

function size(bytes) {
  const n = Number(bytes);
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  if (n < 1 << 30) return (n / (1 << 20)).toFixed(1) + ' MiB';
  return (n / (1 << 30)).toFixed(2) + ' GiB';
}

// The ended job's files, each with a download button.
async function showFiles(id) {
  let list;
  try {
    list = await (await api(`/api/v1/jobs/${encodeURIComponent(id)}/artifacts`)).json();
  } catch (e) {
    return;  // a server without artifacts, or the job is gone: no files section
  }
  $('file-rows').replaceChildren(...(list.artifacts || []).map((a) => {
    const button = el('button', { type: 'button', 'data-name': a.name }, 'Download');
    button.addEventListener('click', () => download(id, a.name));
    return el('tr', {}, el('td', {}, a.name), el('td', {}, KINDS[a.kind] || a.kind),
      el('td', {}, size(a.size_bytes)), el('td', { class: 'digest', title: a.sha256 },
        a.sha256.slice(0, 12) + '…'), el('td', {}, button));
  }));
  $('files').hidden = !(list.artifacts || []).length;
}

// A link cannot carry the token: ask ftd for a one-use link, then follow it.
async function download(id, name) {
  try {
    const link = await (await api(`/api/v1/jobs/${encodeURIComponent(id)}/download_links`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name }) })).json();
    const a = el('a', { href: link.url, download: name.split('/').pop() });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) {
    if (!(e instanceof Unauthenticated)) {
      $('job-error').textContent = e.message;
      $('job-error').hidden = false;
    }
  }
}

// Reads a text/event-stream body, calling onEvent with each `data:` line's JSON; an
// `event: error` throws ftd's message.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (!data) continue;  // a keepalive comment
      const parsed = JSON.parse(data);
      if (name === 'error') throw new Error(parsed.error.message);
      onEvent(parsed);
    }
  }
}

function setState(state) {
  $('job-state').textContent = state;
  $('job-state').className = 'state ' + state;
  $('cancel').hidden = !(state === 'QUEUED' || state === 'RUNNING');
  $('cancel').disabled = false;
}

function renderJob(job) {
  $('job-title').textContent = (job.spec.display_name ? job.spec.display_name + ' — ' : '') +
    job.id;
  setState(job.state);
  $('job-progress').textContent = progressText(job);
  $('job-error').textContent = job.error;
  $('job-error').hidden = !job.error;
  const s = job.spec;
  const facts = [
    ['Model', s.model], ['Task', s.task || 'sequence_classification'],
    ['Train', s.dataset.train || s.dataset.name],
    ['Batch', `${s.micro_batch_size} × ${s.accumulation_steps} accumulation steps`],
    ['Owner', job.owner || '—'], ['Attempt', job.attempt],
    // Data parallel: shown only for a gang, and why a queued job has not started.
    ['World size', s.world_size > 1 ? s.world_size : undefined],
    ['Waiting', job.state === 'QUEUED' ? job.waiting_reason : undefined],
    ['Created', time(job.create_time)], ['Ended', time(job.end_time)],
  ];
  $('job-facts').replaceChildren(...facts.filter(([, v]) => v !== '' && v !== undefined)
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const shown = latestEvaluation(job, 'test') || latestEvaluation(job, 'validation');
  if (shown) renderClasses(shown);
}

function renderClasses(evaluation) {
  $('classes-title').textContent =
    `Per class (${evaluation.split}, step ${evaluation.step}, ` +
    `accuracy ${fmt(100 * evaluation.accuracy, 1)} %, macro-F1 ${fmt(evaluation.macro_f1, 3)})`;
  $('class-rows').replaceChildren(...(evaluation.classes || []).map((c) => el('tr', {},
    el('td', {}, c.label), el('td', {}, fmt(c.precision, 3)), el('td', {}, fmt(c.recall, 3)),
    el('td', {}, fmt(c.f1, 3)), el('td', {}, c.support), el('td', {}, c.predicted))));
}

// A line chart of [x, y] points into `svg` (viewBox 480 x 240); yRange fixes the y axis.
function drawChart(svg, points, yRange) {
  const W = 480, H = 240, left = 48, right = 12, top = 12, bottom = 28;
  svg.replaceChildren();
  svg.setAttribute('data-points', String(points.length));
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const x0 = Math.min(0, ...xs), x1 = Math.max(1, ...xs);
  let [y0, y1] = yRange || [Math.min(...ys, Infinity), Math.max(...ys, -Infinity)];
  if (!isFinite(y0) || !isFinite(y1)) [y0, y1] = [0, 1];
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x) => left + (W - left - right) * (x - x0) / (x1 - x0);
  const sy = (y) => H - bottom - (H - top - bottom) * (y - y0) / (y1 - y0);
  svg.append(svgEl('line', { class: 'axis', x1: left, y1: H - bottom, x2: W - right,
                             y2: H - bottom }));
  svg.append(svgEl('line', { class: 'axis', x1: left, y1: top, x2: left, y2: H - bottom }));
  const tick = (x, y, text, anchor) => {
    const t = svgEl('text', { class: 'tick', x, y, 'text-anchor': anchor });
    t.textContent = text;
    svg.append(t);
  };
  tick(left - 4, sy(y1) + 4, y1.toPrecision(3), 'end');
  tick(left - 4, sy(y0), y0.toPrecision(3), 'end');
  tick(sx(x0), H - 8, 'step ' + x0, 'start');
  tick(sx(x1), H - 8, String(x1), 'end');
  if (!points.length) return;
  svg.append(svgEl('polyline', { class: 'curve',
    points: points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ') }));
  for (const p of points) {
    svg.append(svgEl('circle', { class: 'point', cx: sx(p[0]), cy: sy(p[1]), r: 2.5 }));
  }
}

// ---- routing -----------------------------------------------------------------------------

function route() {
  view.stop();
  const match = location.hash.match(/^#\/jobs\/([A-Za-z0-9_-]+)$/);
  view = match ? showJob(match[1]) : showJobs();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    route();
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin('');
  });
  window.addEventListener('hashchange', route);
  route();
});
