// Pupil page: steer the class camera (drag, pinch, wheel, arrows and + / −, the teacher's
// named views) and ask for stills of the board, over the data channels (peer.js).
//
// The page follows its own commands at once on the controls and the class station
// answers with the view it applied (view_state), or refuses with a reason, which is said.
// Stills stay in this page's memory only, for the lesson; « Enregistrer la photo » appears
// only when the teacher allows it.

import {
  PeerChannel,
  STILLS_CHANNEL,
  StillReceiver,
  VIEW_CHANNEL,
} from './peer.js';
import { bindPad, bindSteering, FULL_VIEW, zoomWords } from './view.js';

const SEND_EVERY_MS = 33; // a drag sends at most one view a frame; the last one always
const REFUSED = {
  view: {
    locked: 'L’enseignant a fixé la vue : tu ne peux pas la changer pour l’instant.',
    rate_limited: 'Doucement : trop de demandes d’un coup. Réessaie dans un instant.',
    unknown_view: 'Cette vue n’existe plus.',
    unavailable: 'La caméra de la classe n’est pas prête.',
    paused: 'La classe a fait une pause.',
    busy: 'La classe est occupée, réessaie.',
  },
  still: {
    paused: 'Pas de photo pendant la pause de la classe.',
    busy: 'Une photo est déjà en route.',
    rate_limited: 'Attends quelques secondes avant la prochaine photo.',
    unavailable: 'La photo du tableau n’est pas disponible pour l’instant.',
    locked: 'Pas de photo pour l’instant.',
    unknown_view: 'Pas de photo pour l’instant.',
  },
};
const STILL_ZOOMS = [1, 1.5, 2, 3, 4];

const clock = (ms) =>
  new Date(ms).toLocaleTimeString('fr-FR', { hour: '2-digit', minute: '2-digit' });

export class PupilSteer {
  constructor({ root, announce }) {
    this.announce = announce;
    this.el = {
      figure: root.querySelector('#class-figure'),
      video: root.querySelector('#class-video'),
      pad: root.querySelector('#pupil-pad'),
      views: root.querySelector('#pupil-views'),
      locked: root.querySelector('#view-locked'),
      stillButton: root.querySelector('#still-button'),
      stills: root.querySelector('#stills'),
      list: root.querySelector('#still-list'),
      progress: root.querySelector('#still-progress'),
      viewer: root.querySelector('#still-viewer'),
      frame: root.querySelector('#still-frame'),
      image: root.querySelector('#still-image'),
      zoomIn: root.querySelector('#still-zoom-in'),
      zoomOut: root.querySelector('#still-zoom-out'),
      save: root.querySelector('#still-save'),
      close: root.querySelector('#still-close'),
    };
    this.peers = {};
    this.stills = [];
    this.shown = null;
    this.stillZoom = 0;
    this.receiver = new StillReceiver();
    this.receiver.addEventListener('still', ({ detail }) => this.onStill(detail));
    this.receiver.addEventListener('failed', ({ detail }) => this.onStillFailed(detail));
    this.receiver.addEventListener('progress', ({ detail }) => {
      this.el.progress.textContent = `Photo en route : ${Math.round((100 * detail.received) / detail.chunks)} %`;
    });
    /** Times of the latest events, for diagnostics and the benchmarks. */
    this.trace = { commands: [], stills: [] };
    this.resetState();

    const steering = {
      getView: () => this.view,
      getOptions: () => ({ aspect: this.aspect, maxZoom: this.maxZoom }),
      onView: (view, how) => this.command(view, how),
    };
    bindPad(this.el.pad, steering);
    this.el.video.classList.add('steer-surface');
    bindSteering({ surface: this.el.video, keyTarget: this.el.figure, ...steering });
    this.el.pad.addEventListener('keydown', (event) => {
      if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', '+', '-'].includes(event.key)) {
        this.el.figure.dispatchEvent(new KeyboardEvent('keydown', { key: event.key }));
        event.preventDefault();
      }
    });
    this.el.stillButton.addEventListener('click', () => this.requestStill());
    this.el.zoomIn.addEventListener('click', () => this.zoomStill(1));
    this.el.zoomOut.addEventListener('click', () => this.zoomStill(-1));
    this.el.close.addEventListener('click', () => this.showStill(null));
    this.el.image.addEventListener('contextmenu', (event) => {
      if (!this.keepStills) event.preventDefault();
    });
    this.render();
  }

  resetState() {
    this.view = FULL_VIEW;
    this.aspect = 16 / 9;
    this.maxZoom = 1;
    this.viewId = null;
    this.locked = false;
    this.keepStills = false;
    this.views = [];
    this.seq = 0;
    this.lastViewSeq = 0;
    this.pending = null;
    this.sendTimer = null;
    this.lastSent = 0;
    this.ready = false;
  }

  /** A new live link: its data channels come with each new peer connection. */
  wire(link) {
    link.addEventListener('channel', ({ detail }) => this.onChannel(detail));
  }

  onChannel({ label, channel }) {
    const peer = new PeerChannel(channel, 'pupil');
    this.peers[label] = peer;
    if (label === VIEW_CHANNEL) {
      peer.addEventListener('message', ({ detail }) => this.onMessage(detail));
      peer.addEventListener('close', () => {
        if (this.peers[VIEW_CHANNEL] === peer) {
          this.ready = false;
          this.render();
        }
      });
    } else if (label === STILLS_CHANNEL) {
      this.receiver.attach(peer);
    }
  }

  get open() {
    return Boolean(this.peers[VIEW_CHANNEL]?.open && this.ready);
  }

  // Commands --------------------------------------------------------------------------------

  nextSeq() {
    this.seq += 1;
    return this.seq;
  }

  command(view, how) {
    if (!this.open) {
      this.announce('La classe n’est pas encore connectée.');
      return;
    }
    this.view = view;
    this.viewId = null;
    this.pending = view;
    this.flush();
    if (how === 'key-zoom') this.announce(`Vue de la classe : ${zoomWords(view)}.`);
    this.render();
  }

  /** Send the latest view now, or as soon as a frame's time has passed since the last. */
  flush() {
    if (!this.pending || this.sendTimer) return;
    const wait = this.lastSent + SEND_EVERY_MS - performance.now();
    if (wait > 0) {
      this.sendTimer = setTimeout(() => {
        this.sendTimer = null;
        this.flush();
      }, wait);
      return;
    }
    const { x, y, zoom } = this.pending;
    this.pending = null;
    this.lastSent = performance.now();
    const seq = this.nextSeq();
    this.lastViewSeq = seq;
    this.mark(seq, 'view_set');
    this.peers[VIEW_CHANNEL].send({ type: 'view_set', seq, x, y, zoom });
  }

  pick(view) {
    if (!this.open) {
      this.announce('La classe n’est pas encore connectée.');
      return;
    }
    const seq = this.nextSeq();
    this.lastViewSeq = seq;
    this.viewId = view.id;
    this.mark(seq, 'view_preset');
    this.peers[VIEW_CHANNEL].send({ type: 'view_preset', seq, view: view.id });
    this.announce(`Vue de la classe : ${view.name}.`);
    this.render();
  }

  requestStill() {
    if (!this.open) {
      this.announce('La classe n’est pas encore connectée.');
      return;
    }
    const seq = this.nextSeq();
    this.mark(seq, 'still_request');
    this.peers[VIEW_CHANNEL].send({ type: 'still_request', seq });
    this.el.progress.textContent = 'Photo du tableau demandée…';
    this.announce('Photo du tableau demandée…');
  }

  mark(seq, type) {
    this.trace.commands.push({ seq, type, at: performance.timeOrigin + performance.now() });
    if (this.trace.commands.length > 500) this.trace.commands.shift();
  }

  // What the class says ---------------------------------------------------------------------

  onMessage(message) {
    if (message.type === 'view_state') this.onState(message);
    else if (message.type === 'views') {
      this.views = message.views;
      this.renderViews();
      this.render();
    } else if (message.type === 'refused') {
      this.announce(REFUSED[message.about][message.reason]);
      if (message.about === 'still') this.el.progress.textContent = '';
    }
  }

  onState(state) {
    const wasLocked = this.locked;
    const first = !this.ready;
    this.ready = true;
    this.locked = state.locked;
    this.keepStills = state.keep_stills;
    this.aspect = state.aspect;
    this.maxZoom = state.max_zoom;
    // A state older than this page's latest command would undo a drag on its way.
    if (state.seq >= this.lastViewSeq && !this.pending && !this.sendTimer) {
      this.view = { x: state.x, y: state.y, zoom: state.zoom };
      this.viewId = state.view;
    }
    if (!first && wasLocked !== this.locked) {
      this.announce(
        this.locked
          ? 'L’enseignant a fixé la vue de la classe.'
          : 'Tu peux de nouveau orienter la vue de la classe.',
      );
    }
    this.render();
  }

  // Stills ------------------------------------------------------------------------------------

  onStill({ id, blob, width, height, takenAt }) {
    const url = URL.createObjectURL(blob);
    const still = { id, url, width, height, takenAt, mime: blob.type, number: this.stills.length + 1 };
    this.stills.push(still);
    this.trace.stills.push({ id, at: performance.timeOrigin + performance.now(), width, height });
    this.el.progress.textContent = '';
    this.renderStills();
    this.showStill(still);
    this.announce(`Photo du tableau n°${still.number} reçue. Tu peux l’agrandir et la parcourir.`);
  }

  onStillFailed({ reason }) {
    this.el.progress.textContent = '';
    if (reason === 'paused') this.announce(REFUSED.still.paused);
    else if (reason !== 'closed') this.announce('La photo du tableau n’est pas arrivée entière : redemande-la.');
  }

  showStill(still) {
    this.shown = still;
    this.stillZoom = 0;
    const { el } = this;
    el.viewer.hidden = !still;
    if (still) {
      el.image.src = still.url;
      el.image.alt = `Photo du tableau n°${still.number}, prise à ${clock(still.takenAt)}`;
      el.image.dataset.width = String(still.width);
      el.image.dataset.height = String(still.height);
      el.save.href = still.url;
      const extension = { 'image/png': 'png', 'image/webp': 'webp' }[still.mime] || 'jpg';
      el.save.download = `tableau-${still.number}.${extension}`;
      this.applyStillZoom();
      el.frame.focus();
    } else {
      el.image.removeAttribute('src');
      el.image.alt = '';
    }
    this.renderStills();
    this.render();
  }

  zoomStill(step) {
    if (!this.shown) return;
    this.stillZoom = Math.max(0, Math.min(STILL_ZOOMS.length - 1, this.stillZoom + step));
    this.applyStillZoom();
    this.announce(`Photo agrandie ×${STILL_ZOOMS[this.stillZoom].toLocaleString('fr-FR')}.`);
  }

  applyStillZoom() {
    // Zoom 1 fits the frame's width; each step shows the picture larger, to scroll through.
    const { frame, image } = this.el;
    const fit = frame.clientWidth || 640;
    image.style.width = `${Math.round(fit * STILL_ZOOMS[this.stillZoom])}px`;
  }

  /** Leaving or the end of the lesson: the stills go, with everything else. */
  clear() {
    for (const still of this.stills) URL.revokeObjectURL(still.url);
    this.stills = [];
    this.shown = null;
    this.el.viewer.hidden = true;
    this.el.image.removeAttribute('src');
    this.el.progress.textContent = '';
    clearTimeout(this.sendTimer);
    this.peers = {};
    this.resetState();
    this.renderViews();
    this.renderStills();
    this.render();
  }

  // Rendering ---------------------------------------------------------------------------------

  render() {
    const { el } = this;
    el.locked.hidden = !this.locked;
    el.figure.dataset.locked = String(this.locked);
    el.figure.dataset.view = this.viewId ?? '';
    el.figure.dataset.zoom = this.view.zoom.toFixed(2);
    el.save.hidden = !this.keepStills || !this.shown;
    for (const button of el.views.querySelectorAll('[data-view]')) {
      button.setAttribute('aria-pressed', String(button.dataset.view === this.viewId));
    }
  }

  renderViews() {
    const buttons = this.views.map((view) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.view = view.id;
      button.textContent = view.name;
      button.setAttribute('aria-pressed', String(view.id === this.viewId));
      button.addEventListener('click', () => this.pick(view));
      return button;
    });
    this.el.views.replaceChildren(...buttons);
  }

  renderStills() {
    const { el } = this;
    el.stills.hidden = this.stills.length === 0;
    const items = this.stills.map((still) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `Photo ${still.number} (${clock(still.takenAt)})`;
      button.setAttribute('aria-current', String(still === this.shown));
      button.addEventListener('click', () => this.showStill(still));
      item.append(button);
      return item;
    });
    el.list.replaceChildren(...items);
  }
}
