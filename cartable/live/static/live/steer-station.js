// Class station: the class camera's view (what the pupil chose, the teacher's named views,
// « Vue fixe ») and the board's stills, over the data channels (peer.js).
//
// The station decides: the pupil only asks. Every command is checked (peer.js), rate
// limited, and refused with a reason when the view is fixed, the class is paused or a
// still is already on its way.

import { ViewCropper } from './crop.js';
import {
  isViewId,
  isViewName,
  MAX_STILL_BYTES,
  MAX_VIEWS,
  PEER_VERSION,
  PeerChannel,
  sendStill,
  STILL_MIME,
  STILLS_CHANNEL,
  TokenBucket,
  VIEW_CHANNEL,
} from './peer.js';
import { bindPad, bindSteering, clampView, FULL_VIEW, sameView, zoomWords } from './view.js';

const VIEWS_KEY = 'cartable.station.views';
const SETTINGS_KEY = 'cartable.station.steer';
export const WHOLE_CLASS = Object.freeze({ id: 'toute-la-classe', name: 'Toute la classe', ...FULL_VIEW });
const SENT_SIZE = { width: { max: 1280 }, height: { max: 720 } };
const STILL_QUALITY = 0.92;

function loadJson(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || 'null');
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** The named views kept on this device, checked (localStorage may hold anything). */
function loadViews() {
  const stored = loadJson(VIEWS_KEY, []);
  if (!Array.isArray(stored)) return [];
  return stored
    .filter(
      (v) =>
        v &&
        isViewId(v.id) &&
        v.id !== WHOLE_CLASS.id &&
        isViewName(v.name) &&
        [v.x, v.y, v.zoom].every(Number.isFinite),
    )
    .slice(0, MAX_VIEWS - 1)
    .map((v) => ({ id: v.id, name: v.name.trim(), ...clampView(v) }));
}

function slug(name, taken) {
  const base =
    name
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24) || 'vue';
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}-${n}`;
  return id;
}

export class StationSteer {
  constructor({ link, root, announce, pupilName }) {
    this.link = link;
    this.announce = announce;
    this.pupilName = pupilName;
    this.el = {
      section: root.querySelector('#steer'),
      summary: root.querySelector('#steer-summary'),
      minimap: root.querySelector('#steer-minimap span'),
      lock: root.querySelector('#steer-lock'),
      keep: root.querySelector('#keep-stills'),
      list: root.querySelector('#station-views'),
      form: root.querySelector('#view-form'),
      name: root.querySelector('#view-name'),
      pad: root.querySelector('#station-pad'),
      preview: root.querySelector('#class-preview'),
      previewFigure: root.querySelector('#class-preview').closest('figure'),
    };
    this.views = loadViews();
    const settings = loadJson(SETTINGS_KEY, {});
    this.keepStills = settings.keepStills === true;
    this.locked = false;
    this.view = FULL_VIEW;
    this.viewId = WHOLE_CLASS.id;
    this.by = 'class';
    this.pupilSeq = 0;
    this.cropper = null;
    this.classSource = null;
    this.boardSource = null;
    this.plain = null;
    this.cropping = true;
    this.peers = {};
    this.viewBucket = new TokenBucket(30, 30);
    this.stillBucket = new TokenBucket(1 / 3, 2);
    this.lastRateRefusal = 0;
    this.stillId = 0;
    this.sendingStill = false;
    /** Times of the latest events, for diagnostics and the benchmarks. */
    this.trace = { received: 0, applied: 0, stills: [] };

    link.addEventListener('channel', ({ detail }) => this.onChannel(detail));
    const steering = {
      getView: () => this.view,
      getOptions: () => this.options(),
      onView: (view) => this.setView(view, { by: 'class' }),
    };
    bindPad(this.el.pad, steering);
    this.el.previewFigure.classList.add('steerable');
    this.el.preview.classList.add('steer-surface');
    bindSteering({ surface: this.el.preview, keyTarget: this.el.previewFigure, ...steering });
    this.el.pad.addEventListener('keydown', (event) => {
      // Arrows and + / − keep steering while the focus is on the pad's buttons.
      if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', '+', '-'].includes(event.key)) {
        this.el.previewFigure.dispatchEvent(new KeyboardEvent('keydown', { key: event.key }));
        event.preventDefault();
      }
    });
    this.el.lock.addEventListener('click', () => this.setLocked(!this.locked));
    this.el.keep.addEventListener('click', () => this.setKeepStills(!this.keepStills));
    this.el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveCurrent(this.el.name.value);
    });
    this.renderViews();
    this.render();
  }

  options() {
    return { aspect: this.cropper?.aspect, maxZoom: this.cropper?.maxZoom };
  }

  // Media --------------------------------------------------------------------------------

  /**
   * The class camera at full resolution: start cropping it; resolves to the track to send.
   * `board` is the board camera's track, for stills at its full photo resolution.
   */
  async attach({ classSource, board }) {
    this.detach();
    this.classSource = classSource;
    this.boardSource = board;
    this.cropper = new ViewCropper(classSource);
    this.cropper.addEventListener('applied', ({ detail }) => {
      this.trace.applied = detail.at;
      this.trace.appliedSeq = detail.seq;
    });
    this.cropper.addEventListener('source', () => this.broadcast());
    const output = await this.cropper.start();
    output.contentHint = 'motion';
    this.cropper.setView(this.view);
    this.el.section.hidden = false;
    this.render();
    return output;
  }

  detach() {
    this.cropper?.stop();
    this.cropper = null;
    this.plain?.stop();
    this.plain = null;
    this.classSource = null;
    this.boardSource = null;
    this.cropping = true;
    this.el.section.hidden = true;
  }

  /** Diagnostics and benchmarks: send the camera as it is (scaled to 1280x720), or cropped. */
  async setCropping(on) {
    if (!this.cropper || on === this.cropping) return;
    this.cropping = on;
    if (!on && !this.plain) {
      this.plain = this.classSource.clone();
      await this.plain.applyConstraints(SENT_SIZE);
    }
    await this.link.setLocalTrack('class', on ? this.cropper.output : this.plain);
  }

  // Data channels -------------------------------------------------------------------------

  onChannel({ label, channel }) {
    const peer = new PeerChannel(channel, 'class');
    this.peers[label] = peer;
    if (label === VIEW_CHANNEL) {
      peer.addEventListener('open', () => {
        this.sendViews();
        this.broadcast();
      });
      peer.addEventListener('message', ({ detail }) => this.onMessage(detail));
    }
  }

  send(message) {
    return this.peers[VIEW_CHANNEL]?.send(message) ?? false;
  }

  refuse(seq, about, reason) {
    this.send({ type: 'refused', seq, about, reason });
  }

  onMessage(message) {
    this.trace.received = performance.timeOrigin + performance.now();
    if (message.type === 'still_request') {
      this.pupilSeq = Math.max(this.pupilSeq, message.seq);
      this.sendBoardStill(message.seq);
      return;
    }
    if (!this.viewBucket.take()) {
      // Say so once a second at most: a refusal is a message too.
      const now = performance.now();
      if (now - this.lastRateRefusal > 1000) {
        this.lastRateRefusal = now;
        this.refuse(message.seq, 'view', 'rate_limited');
      }
      return;
    }
    this.pupilSeq = Math.max(this.pupilSeq, message.seq);
    if (!this.cropper) return this.refuse(message.seq, 'view', 'unavailable');
    if (this.locked) {
      this.refuse(message.seq, 'view', 'locked');
      this.broadcast(); // the pupil's page goes back to the view as it is
      return;
    }
    if (message.type === 'view_set') {
      this.setView({ x: message.x, y: message.y, zoom: message.zoom }, { by: 'pupil' });
    } else if (message.type === 'view_preset') {
      const preset = this.allViews().find((v) => v.id === message.view);
      if (!preset) return this.refuse(message.seq, 'view', 'unknown_view');
      this.setView(preset, { by: 'pupil', viewId: preset.id });
      this.announce(`${this.pupilName()} regarde : ${preset.name}.`);
    }
  }

  state() {
    return {
      type: 'view_state',
      version: PEER_VERSION,
      seq: this.pupilSeq,
      x: this.view.x,
      y: this.view.y,
      zoom: this.view.zoom,
      max_zoom: this.cropper?.maxZoom ?? 1,
      aspect: this.cropper?.aspect ?? 16 / 9,
      view: this.viewId,
      locked: this.locked,
      keep_stills: this.keepStills,
      optical: Boolean(this.cropper?.optical),
      by: this.by,
    };
  }

  broadcast() {
    this.send(this.state());
  }

  sendViews() {
    this.send({ type: 'views', views: this.allViews().map(({ id, name }) => ({ id, name })) });
  }

  // The view ------------------------------------------------------------------------------

  allViews() {
    return [WHOLE_CLASS, ...this.views];
  }

  setView(view, { by, viewId = null }) {
    const applied = this.cropper ? this.cropper.setView(view) : clampView(view, this.options());
    this.view = applied;
    // A named view stays named while the view is still exactly it.
    const named = viewId ?? this.allViews().find((v) => sameView(v, applied))?.id ?? null;
    this.viewId = named;
    this.by = by;
    this.broadcast();
    this.render();
  }

  setLocked(locked) {
    this.locked = locked;
    this.announce(
      locked
        ? 'Vue fixe : l’élève ne peut plus changer la vue de la classe.'
        : 'L’élève peut de nouveau orienter la vue de la classe.',
    );
    this.broadcast();
    this.render();
  }

  setKeepStills(keep) {
    this.keepStills = keep;
    localStorage.setItem(SETTINGS_KEY, JSON.stringify({ keepStills: keep }));
    this.announce(
      keep
        ? 'L’élève peut garder les photos du tableau.'
        : 'Les photos du tableau restent sur la tablette de l’élève le temps de la séance.',
    );
    this.broadcast();
    this.render();
  }

  saveCurrent(rawName) {
    const name = rawName.trim();
    if (!isViewName(name)) {
      this.announce('Donnez un nom à la vue (40 caractères au plus).');
      return;
    }
    const existing = this.views.find((v) => v.name.toLowerCase() === name.toLowerCase());
    if (!existing && this.views.length >= MAX_VIEWS - 1) {
      this.announce(`${MAX_VIEWS - 1} vues au plus : supprimez-en une d’abord.`);
      return;
    }
    const id = existing?.id ?? slug(name, new Set(this.allViews().map((v) => v.id)));
    const saved = { id, name, ...this.view };
    this.views = existing
      ? this.views.map((v) => (v.id === id ? saved : v))
      : [...this.views, saved];
    this.persistViews();
    this.viewId = id;
    this.el.name.value = '';
    this.announce(`Vue « ${name} » enregistrée.`);
    this.broadcast();
    this.render();
  }

  removeView(id) {
    const view = this.views.find((v) => v.id === id);
    if (!view) return;
    this.views = this.views.filter((v) => v.id !== id);
    this.persistViews();
    if (this.viewId === id) this.viewId = null;
    this.announce(`Vue « ${view.name} » supprimée.`);
    this.broadcast();
    this.render();
    this.el.name.focus();
  }

  persistViews() {
    localStorage.setItem(VIEWS_KEY, JSON.stringify(this.views));
    this.sendViews();
    this.renderViews();
  }

  // Stills ---------------------------------------------------------------------------------

  async sendBoardStill(seq) {
    const peer = this.peers[STILLS_CHANNEL];
    if (this.link.paused) return this.refuse(seq, 'still', 'paused');
    if (!peer?.open || !this.boardSource || this.boardSource.readyState !== 'live') {
      return this.refuse(seq, 'still', 'unavailable');
    }
    if (this.sendingStill) return this.refuse(seq, 'still', 'busy');
    if (!this.stillBucket.take()) return this.refuse(seq, 'still', 'rate_limited');
    this.sendingStill = true;
    const started = performance.timeOrigin + performance.now();
    try {
      const { blob, width, height } = await grabStill(this.boardSource);
      this.stillId += 1;
      const sent = await sendStill(peer, {
        id: this.stillId,
        seq,
        blob,
        width,
        height,
        takenAt: Date.now(),
        shouldStop: () => this.link.paused,
      });
      if (sent) {
        this.trace.stills.push({
          id: this.stillId,
          started,
          sent: performance.timeOrigin + performance.now(),
          bytes: blob.size,
          width,
          height,
        });
        if (this.trace.stills.length > 50) this.trace.stills.shift();
        this.announce(`Photo du tableau envoyée à ${this.pupilName()}.`);
      }
    } catch (err) {
      console.warn('still', err);
      this.refuse(seq, 'still', 'unavailable');
    } finally {
      this.sendingStill = false;
    }
  }

  // Rendering ------------------------------------------------------------------------------

  describe() {
    const named = this.allViews().find((v) => v.id === this.viewId);
    const what = named ? named.name : 'vue libre';
    return `${what}, ${zoomWords(this.view)}`;
  }

  render() {
    const { el } = this;
    const who = this.by === 'pupil' ? ' (choisie par l’élève)' : '';
    el.summary.textContent = `Ce que voit l’élève : ${this.describe()}${who}.`;
    el.lock.setAttribute('aria-pressed', String(this.locked));
    el.keep.setAttribute('aria-pressed', String(this.keepStills));
    el.section.dataset.locked = String(this.locked);
    el.section.dataset.view = this.viewId ?? '';
    // The region shown, drawn on a small map of the whole picture (for the eye only).
    const aspect = this.cropper?.aspect ?? 16 / 9;
    const widthShare = Math.min(1, 16 / 9 / aspect) / this.view.zoom;
    const heightShare = Math.min(1, aspect / (16 / 9)) / this.view.zoom;
    Object.assign(el.minimap.style, {
      left: `${(this.view.x - widthShare / 2) * 100}%`,
      top: `${(this.view.y - heightShare / 2) * 100}%`,
      width: `${widthShare * 100}%`,
      height: `${heightShare * 100}%`,
    });
    for (const button of el.list.querySelectorAll('[data-view]')) {
      button.setAttribute('aria-pressed', String(button.dataset.view === this.viewId));
    }
  }

  renderViews() {
    const items = this.allViews().map((view) => {
      const item = document.createElement('li');
      const go = document.createElement('button');
      go.type = 'button';
      go.dataset.view = view.id;
      go.textContent = view.name;
      go.setAttribute('aria-pressed', String(view.id === this.viewId));
      go.addEventListener('click', () => {
        this.setView(view, { by: 'class', viewId: view.id });
        this.announce(`Vue de la classe : ${view.name}.`);
      });
      item.append(go);
      if (view.id !== WHOLE_CLASS.id) {
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'link-button';
        remove.textContent = 'Supprimer';
        remove.setAttribute('aria-label', `Supprimer la vue ${view.name}`);
        remove.addEventListener('click', () => this.removeView(view.id));
        item.append(remove);
      }
      return item;
    });
    this.el.list.replaceChildren(...items);
  }

  /** End of the session: forget the pupil's choices (named views and settings stay). */
  reset() {
    this.locked = false;
    this.view = FULL_VIEW;
    this.viewId = WHOLE_CLASS.id;
    this.by = 'class';
    this.pupilSeq = 0;
    this.peers = {};
    this.render();
  }
}

/**
 * A still of a camera at its full resolution: ImageCapture.takePhoto at the largest photo
 * size the camera gives (the track keeps its own size); else the current frame.
 */
async function grabStill(track) {
  if (typeof ImageCapture === 'function') {
    try {
      const capture = new ImageCapture(track);
      const photo = await capture.getPhotoCapabilities();
      const settings = {};
      if (photo.imageWidth?.max) settings.imageWidth = photo.imageWidth.max;
      if (photo.imageHeight?.max) settings.imageHeight = photo.imageHeight.max;
      let blob = await capture.takePhoto(settings);
      const bitmap = await createImageBitmap(blob);
      const { width, height } = bitmap;
      // Sent as the camera gave it when it is a format the pupil's page accepts.
      if (!STILL_MIME.includes(blob.type) || blob.size > MAX_STILL_BYTES) {
        blob = await encode(bitmap);
      }
      bitmap.close();
      return { blob, width, height };
    } catch (err) {
      console.warn('takePhoto', err);
    }
  }
  let bitmap;
  if (typeof ImageCapture === 'function') {
    bitmap = await new ImageCapture(track).grabFrame();
  } else {
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = new MediaStream([track]);
    await video.play();
    bitmap = await createImageBitmap(video);
    video.srcObject = null;
  }
  const { width, height } = bitmap;
  const blob = await encode(bitmap);
  bitmap.close();
  return { blob, width, height };
}

function encode(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: STILL_QUALITY });
}
