// What both live pages share during a lesson: the chat with reactions, the quality of the
// other side, and the reconnection announcements.

import { announce } from './ui.js';

export const REACTIONS = {
  thumbs_up: { emoji: '👍', label: 'D’accord' },
  thumbs_down: { emoji: '👎', label: 'Pas d’accord' },
  smile: { emoji: '😊', label: 'Content' },
  heart: { emoji: '❤️', label: 'J’aime' },
  clap: { emoji: '👏', label: 'Bravo' },
  question: { emoji: '❓', label: 'J’ai une question' },
};

const LEVELS = { good: 'bonne', degraded: 'dégradée', poor: 'mauvaise' };
const REASONS = {
  loss: 'des données se perdent',
  latency: 'le réseau est lent',
  low_frame_rate: 'peu d’images par seconde',
  freezes: 'l’image se fige',
};

/** The words for a quality summary of what ``where`` receives. */
export function qualityText(where, { level, reasons }) {
  const because = reasons && reasons.length ? ` : ${reasons.map((r) => REASONS[r]).join(', ')}` : '';
  return `Réception ${where} : ${LEVELS[level] || level}${because}.`;
}

function clock(at) {
  const date = at ? new Date(at) : new Date();
  return date.toLocaleTimeString('fr-FR', { hour: '2-digit', minute: '2-digit' });
}

/**
 * The chat: a log of messages with their times, a text field and the reaction buttons.
 * Messages live in the page only: nothing keeps them after the lesson.
 */
export function mountChat({ root, getLink, me, other }) {
  const scroller = root.querySelector('.chat-log');
  const log = scroller.querySelector('ol');
  const form = root.querySelector('form');
  const input = form.querySelector('input');
  const add = (who, text, at, kind) => {
    const item = document.createElement('li');
    item.className = `chat-${kind}`;
    const time = document.createElement('time');
    time.textContent = clock(at);
    if (at) time.dateTime = at;
    const author = document.createElement('strong');
    author.textContent = `${who} : `;
    item.append(time, ' ', author, text);
    log.append(item);
    scroller.scrollTop = scroller.scrollHeight;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const link = getLink();
    if (!text || !link) return;
    if (link.chat(text)) {
      add(me, text, null, 'mine');
      input.value = '';
    } else {
      announce('Message non envoyé : la connexion revient, réessaie dans un instant.');
    }
  });
  for (const button of root.querySelectorAll('[data-reaction]')) {
    button.addEventListener('click', () => {
      const name = button.dataset.reaction;
      if (getLink()?.react(name)) add(me, `${REACTIONS[name].emoji} ${REACTIONS[name].label}`, null, 'mine');
    });
  }
  return {
    wire(link) {
      link.addEventListener('chat', ({ detail }) => add(other(), detail.text, detail.at, 'theirs'));
      link.addEventListener('reaction', ({ detail }) => {
        const reaction = REACTIONS[detail.reaction];
        add(other(), `${reaction.emoji} ${reaction.label}`, detail.at, 'theirs');
      });
    },
    clear() {
      log.replaceChildren();
    },
  };
}

/** Announce the signalling's cuts and returns, and show the other side's reception. */
export function wireConnection(link, { qualityElement, where }) {
  link.addEventListener('signalling', ({ detail }) => {
    announce(detail.state === 'reconnecting' ? 'Reconnexion…' : 'Connexion rétablie.');
    document.body.dataset.signalling = detail.state;
  });
  link.addEventListener('quality', ({ detail }) => {
    qualityElement.textContent = qualityText(where, detail);
    qualityElement.dataset.level = detail.level;
  });
}
