// pinflow operator console: plain DOM, no framework. Everything shown comes from audit's API with the
// operator's own token, which lives in this closure only (never in storage, a cookie or a URL), and is
// written with textContent: nothing an event or a letter holds is ever parsed as HTML.
'use strict';
(() => {
  let token = null;
  const $ = (id) => document.getElementById(id);

  class Refused extends Error {}

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      credentials: 'omit',
      cache: 'no-store',
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401) {
      signOut('audit no longer accepts the token (expired or revoked): sign in again.');
      throw new Refused('signed out');
    }
    if (!response.ok) throw new Error(answer.detail || answer.title || `audit answered ${response.status}`);
    return answer;
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text == null || text === '' ? '—' : String(text);
    if (className) td.className = className;
    return td;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows.map((cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells);
      return tr;
    }));
  }

  function shortType(type) {
    return type.replace(/^pinflow\./, '');
  }

  // The wording is the ops CLI's: outcomes.js, which audit builds from describeOutcome in @pinflow/contracts.
  function outcomeOf(event) {
    const outcome = window.pinflowOutcome(event.type, event.data);
    return { text: outcome.text, className: `outcome-${outcome.kind}` };
  }

  function showError(id, error) {
    if (error instanceof Refused) return;
    $(id).textContent = error.message;
  }

  async function loadVendors() {
    const health = await api('GET', '/v1/operator/vendors');
    $('vendors-window').textContent = `outcomes of the last ${health.windowMinutes} minutes`;
    fill($('vendors-rows'), health.vendors.map((vendor) => [
      cell(vendor.vendor),
      cell(vendor.verdict, `verdict-${vendor.verdict}`),
      cell(vendor.succeeded),
      cell(vendor.failed),
      cell(vendor.vendorFaults),
      cell(vendor.failureReasons.map((reason) => `${reason.reason} ×${reason.count}`).join(', '), 'wrap'),
      cell(vendor.lastOutcomeAt),
    ]));
  }

  async function searchCard(cardId) {
    $('card-error').textContent = '';
    $('card-summary').textContent = '';
    fill($('card-events'), []);
    try {
      const page = await api('GET', `/v1/cards/${encodeURIComponent(cardId)}/events?limit=200`);
      const events = page.events.slice().reverse();
      $('card-summary').textContent = events.length === 0
        ? `card ${cardId}: no events in the audit trail`
        : `card ${cardId}: ${events.length} event(s), oldest first${page.nextCursor ? ' (the newest 200)' : ''}`;
      fill($('card-events'), events.map((event) => {
        const data = event.data || {};
        const outcome = outcomeOf(event);
        const request = cell(data.requestId);
        if (data.requestId) {
          const link = document.createElement('a');
          link.className = 'request';
          link.textContent = data.requestId;
          link.addEventListener('click', () => showRequest(data.requestId));
          request.replaceChildren(link);
        }
        return [cell(event.time), cell(shortType(event.type)), cell(data.vendor), cell(data.operation), request, cell(outcome.text, outcome.className)];
      }));
    } catch (error) {
      showError('card-error', error);
    }
  }

  async function showRequest(requestId) {
    $('request-id').value = requestId;
    $('request-error').textContent = '';
    $('request-summary').textContent = '';
    fill($('request-events'), []);
    try {
      const history = await api('GET', `/v1/requests/${encodeURIComponent(requestId)}/events`);
      const accepted = history.events.find((event) => event.type === 'pinflow.pin_change.accepted');
      const data = (accepted && accepted.data) || {};
      $('request-summary').textContent = `request ${history.requestId}: ${history.status}` +
        (accepted ? ` · ${data.vendor} ${data.operation} on card ${accepted.subject}` : '');
      fill($('request-events'), history.events.map((event) => {
        const fields = event.data || {};
        const outcome = outcomeOf(event);
        return [cell(event.time), cell(shortType(event.type)), cell(fields.vendor), cell(fields.operation), cell(outcome.text, outcome.className), cell(event.traceId)];
      }));
    } catch (error) {
      showError('request-error', error);
    }
  }

  async function loadDeadLetters() {
    $('dead-letters-error').textContent = '';
    // Emptied until the answer is in, so that whoever waits for the list sees this one.
    $('dead-letters-total').textContent = '';
    try {
      const list = await api('GET', '/v1/operator/dead-letters');
      $('dead-letters-total').textContent = `${list.total} on the dead-letter topic${list.total > list.letters.length ? `, the newest ${list.letters.length} shown` : ''}`;
      fill($('dead-letters-rows'), list.letters.map((letter) => {
        const action = document.createElement('td');
        action.dataset.offset = letter.offset;
        if (letter.replays.length > 0) {
          // It stays on the topic once replayed: audit keeps every replay, and refuses another unless forced.
          showReplayed(action, letter);
        } else {
          const replay = document.createElement('button');
          replay.type = 'button';
          replay.textContent = 'Replay';
          replay.dataset.offset = letter.offset;
          replay.addEventListener('click', () => replayLetter(letter, replay, action));
          action.append(replay);
        }
        return [
          cell(letter.offset),
          cell(letter.at),
          cell(letter.reason),
          cell(letter.detail, 'wrap'),
          cell(`${letter.source.topic}[${letter.source.partition}]@${letter.source.offset}`),
          cell(letter.source.group),
          cell(letter.key),
          action,
        ];
      }));
    } catch (error) {
      showError('dead-letters-error', error);
    }
  }

  // The latest replay first, then every one of them, oldest first: when, and by whom.
  function showReplayed(action, letter) {
    const replays = letter.replays;
    const latest = replays[replays.length - 1];
    const summary = document.createElement('span');
    summary.className = 'replay-summary';
    summary.textContent = replays.length === 1 ? `Replayed at ${latest.replayedAt}` : `Replayed ${replays.length} times, last at ${latest.replayedAt}`;
    const history = document.createElement('ol');
    history.className = 'replays';
    history.append(...replays.map((replay) => {
      const item = document.createElement('li');
      item.textContent = `${replay.replayedAt} by ${replay.replayedBy}`;
      return item;
    }));
    action.className = 'replayed';
    action.replaceChildren(summary, history);
  }

  async function replayLetter(letter, button, action) {
    button.disabled = true;
    $('dead-letters-error').textContent = '';
    $('dead-letters-status').textContent = '';
    try {
      const answer = await api('POST', '/v1/operator/dead-letters/replay', { partition: letter.partition, offset: letter.offset });
      $('dead-letters-status').textContent = `Replayed letter ${answer.replayed.offset} to ${answer.replayed.source.topic}.`;
      showReplayed(action, answer.replayed);
    } catch (error) {
      button.disabled = false;
      showError('dead-letters-error', error);
    }
  }

  function signOut(reason) {
    token = null;
    $('console').hidden = true;
    $('sign-in').hidden = false;
    $('sign-out').hidden = true;
    $('sign-in-error').textContent = reason || '';
  }

  async function signIn(candidate) {
    $('sign-in-error').textContent = '';
    token = candidate;
    const response = await fetch('/v1/operator/vendors', { headers: { authorization: `Bearer ${token}` }, credentials: 'omit', cache: 'no-store' });
    if (!response.ok) {
      token = null;
      $('sign-in-error').textContent = response.status === 401
        ? 'audit refused the token: it is expired, malformed, or not from an issuer audit trusts.'
        : response.status === 403
          ? 'the token lacks a scope the console needs: pin:read and pinflow:operator.'
          : `audit answered ${response.status}.`;
      return;
    }
    $('token').value = '';
    $('sign-in').hidden = true;
    $('console').hidden = false;
    $('sign-out').hidden = false;
    await Promise.all([loadVendors(), loadDeadLetters()]);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('sign-in-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void signIn($('token').value.trim());
    });
    $('sign-out').addEventListener('click', () => signOut());
    $('card-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void searchCard($('card-id').value.trim());
    });
    $('request-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void showRequest($('request-id').value.trim());
    });
    $('vendors-refresh').addEventListener('click', () => void loadVendors().catch((error) => showError('dead-letters-error', error)));
    $('dead-letters-refresh').addEventListener('click', () => void loadDeadLetters());
  });
})();
