// The document of a loan's folder « Travail », full screen: pages by buttons, arrow keys
// and swipe, zoom by buttons and pinch, the page's text for screen readers; the pupil
// draws (colours, eraser, undo), types an answer, photographs paper and returns it; the
// teacher sees the pupil's strokes, annotates in another colour and hands it back.
//
// Strokes are vector data, {page, colour, width, points: [[x, y], ...]}, x and y in 0..1
// of the page and width in thousandths of its long side (the server's flattened PDF draws
// them the same way). Nothing here talks to the live link: pages call refresh() when it
// says the work changed.

const PUPIL_COLOURS = [['#1d4ed8', 'Bleu'], ['#111827', 'Noir'], ['#047857', 'Vert']];
const TEACHER_COLOURS = [['#dc2626', 'Rouge'], ['#047857', 'Vert'], ['#7c3aed', 'Violet']];
const PEN_WIDTH = 4;
const ERASER_RADIUS = 0.02;
const SWIPE_PX = 60;

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

export class WorkViewer {
  /**
   * @param {HTMLElement} root where the viewer is built
   * @param {object} options
   * @param {string} options.workId
   * @param {'pupil'|'teacher'|'reader'} options.side
   * @param {(message: string) => void} [options.onDone] called once returned or handed back
   */
  constructor(root, { workId, side, onDone }) {
    this.root = root;
    this.workId = workId;
    this.side = side;
    this.onDone = onDone || (() => {});
    this.base = `/travail/${workId}/`;
    this.page = 1;
    this.zoom = 1;
    this.tool = side === 'reader' ? 'move' : 'pen';
    this.mine = []; // this side's strokes (editable)
    this.theirs = []; // the other side's (shown, never changed here)
    this.current = null;
    this.pointers = new Map();
    this.pinch = null;
    this.swipe = null;
    this.build();
  }

  build() {
    const colours = this.side === 'pupil' ? PUPIL_COLOURS : TEACHER_COLOURS;
    this.status = el('div', { role: 'status', class: 'status work-status' });
    this.title = el('h2', { class: 'work-title', tabindex: '-1' });
    this.meta = el('p', { class: 'work-meta' });
    this.instructions = el('p', { class: 'work-instructions', hidden: true });
    this.pageLabel = el('span', { class: 'page-label', 'aria-live': 'polite' });
    const button = (id, label, action, extra = {}) => {
      const node = el('button', { type: 'button', 'data-action': id, ...extra, text: label });
      node.addEventListener('click', action);
      return node;
    };
    this.prev = button('prev', 'Page précédente', () => this.go(this.page - 1));
    this.next = button('next', 'Page suivante', () => this.go(this.page + 1));
    const toolbar = el(
      'div',
      { class: 'work-toolbar controls', role: 'toolbar', 'aria-label': 'Pages et zoom' },
      this.prev,
      this.pageLabel,
      this.next,
      button('zoom-in', 'Agrandir', () => this.setZoom(this.zoom * 1.25)),
      button('zoom-out', 'Réduire', () => this.setZoom(this.zoom / 1.25)),
      button('fullscreen', 'Plein écran', () => this.fullscreen()),
    );
    const tools = el('div', { class: 'work-tools controls', role: 'group', 'aria-label': 'Outils de dessin' });
    this.toolButtons = {};
    if (this.side !== 'reader') {
      for (const [tool, label] of [['move', 'Déplacer'], ['pen', 'Crayon'], ['eraser', 'Gomme']]) {
        const node = button(`tool-${tool}`, label, () => this.setTool(tool), { 'aria-pressed': String(this.tool === tool) });
        this.toolButtons[tool] = node;
        tools.append(node);
      }
      const colourId = `work-colour-${this.workId}`;
      this.colour = el('select', { id: colourId });
      for (const [value, label] of colours) this.colour.append(el('option', { value, text: label }));
      tools.append(el('label', { for: colourId, text: 'Couleur' }), this.colour);
      tools.append(button('undo', 'Annuler le dernier trait', () => this.undo()));
    }
    this.image = el('img', { class: 'page-image', alt: '', draggable: 'false' });
    this.canvas = el('canvas', { class: 'page-ink', 'aria-hidden': 'true' });
    this.sheet = el('div', { class: 'page-sheet' }, this.image, this.canvas);
    this.frame = el(
      'div',
      {
        class: 'page-frame',
        tabindex: '0',
        role: 'region',
        'aria-label': 'Page du document : flèches gauche et droite pour changer de page, + et − pour zoomer',
      },
      this.sheet,
    );
    this.text = el('div', { class: 'page-text-body' });
    const textSection = el('section', { class: 'page-text' }, el('h3', { text: 'Texte de la page' }), this.text);
    this.photos = el('ul', { class: 'work-photos' });
    this.photoSection = el('section', { class: 'work-photos-section', hidden: true }, el('h3', { text: 'Photos du travail rendu' }), this.photos);
    this.answerShown = el('p', { class: 'work-answer', hidden: true });
    this.commentShown = el('p', { class: 'work-comment', hidden: true });
    const form = this.buildForm();
    this.download = el('a', { class: 'button', href: `${this.base}annote.pdf`, text: 'Télécharger le PDF annoté' });
    this.root.replaceChildren(
      this.title, this.meta, this.instructions, this.status, toolbar, tools, this.frame,
      this.answerShown, this.commentShown, this.photoSection, textSection, form || '',
      el('p', { class: 'controls' }, this.download),
    );
    this.bindPointer();
    this.frame.addEventListener('keydown', (event) => this.onKey(event));
    this.image.addEventListener('load', () => this.layout());
    window.addEventListener('resize', () => this.layout());
    if (window.ResizeObserver) new ResizeObserver(() => this.layout()).observe(this.frame);
  }

  buildForm() {
    if (this.side === 'reader') return null;
    const form = el('form', { class: 'stack work-form' });
    const id = (name) => `work-${name}-${this.workId}`;
    if (this.side === 'pupil') {
      this.answer = el('textarea', { id: id('answer'), rows: '3', maxlength: '5000' });
      this.photoInput = el('input', { id: id('photo'), type: 'file', accept: 'image/*', capture: 'environment', multiple: true });
      form.append(
        el('div', { class: 'field' }, el('label', { for: id('answer'), text: 'Ma réponse' }), this.answer),
        el('div', { class: 'field' }, el('label', { for: id('photo'), text: 'Photographier mon travail sur papier' }), this.photoInput),
        el('button', { type: 'submit', class: 'primary big', 'data-action': 'give-back', text: 'Rendre mon travail' }),
      );
    } else {
      this.comment = el('textarea', { id: id('comment'), rows: '2', maxlength: '2000' });
      form.append(
        el('div', { class: 'field' }, el('label', { for: id('comment'), text: "Remarque pour l'élève" }), this.comment),
        el('button', { type: 'submit', class: 'primary', 'data-action': 'hand-back', text: "Rendre la correction à l'élève" }),
      );
    }
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    return form;
  }

  async refresh() {
    const response = await fetch(this.base, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!response.ok) {
      this.say("Ce document n'est plus disponible.");
      return;
    }
    const { work } = await response.json();
    this.work = work;
    const pupilStrokes = work.pupil_strokes || [];
    const teacherStrokes = work.teacher_strokes || [];
    if (this.side === 'pupil') {
      this.mine = this.dirty ? this.mine : pupilStrokes.slice();
      this.theirs = teacherStrokes;
    } else {
      this.mine = this.dirty ? this.mine : teacherStrokes.slice();
      this.theirs = pupilStrokes;
    }
    this.title.textContent = work.title;
    this.meta.textContent = `${work.state_label}${work.due_on ? ` · à faire pour le ${new Date(work.due_on).toLocaleDateString('fr-FR', { weekday: 'long', day: 'numeric', month: 'long' })}` : ''}`;
    this.instructions.hidden = !work.instructions;
    this.instructions.textContent = work.instructions;
    this.answerShown.hidden = !work.answer || this.side === 'pupil';
    this.answerShown.textContent = `Réponse de l'élève : ${work.answer}`;
    this.commentShown.hidden = !work.comment || this.side !== 'pupil';
    this.commentShown.textContent = `Remarque de l'enseignant : ${work.comment}`;
    if (this.answer && !this.dirty) this.answer.value = work.answer || '';
    if (this.comment && !this.dirty) this.comment.value = work.comment || '';
    this.photos.replaceChildren(
      ...work.photos.map((photo, index) => el('li', {}, el('img', { src: photo.url, alt: `Photo ${index + 1} du travail rendu`, class: 'work-photo' }))),
    );
    this.photoSection.hidden = work.photos.length === 0;
    this.go(Math.min(this.page, work.pages.length) || 1);
  }

  go(page) {
    if (!this.work) return;
    const count = this.work.pages.length;
    if (page < 1 || page > count) return;
    this.page = page;
    const info = this.work.pages[page - 1];
    this.image.src = info.url;
    this.image.alt = `Page ${page} sur ${count} : ${this.work.title}`;
    this.image.width = info.width;
    this.image.height = info.height;
    this.pageLabel.textContent = `Page ${page} sur ${count}`;
    this.prev.disabled = page === 1;
    this.next.disabled = page === count;
    this.text.textContent = info.text || "Cette page n'a pas de texte lisible (une image ou un scan).";
    this.layout();
    // The next page is asked for now (the server renders it the first time), so turning
    // the page shows it at once.
    const following = this.work.pages[page];
    if (following) new Image().src = following.url;
  }

  layout() {
    // At zoom 1 the whole page fits in the frame; zooming widens the sheet, the frame scrolls.
    const info = this.work && this.work.pages[this.page - 1];
    const aspect = info ? info.width / info.height : 0.7;
    const frameWidth = this.frame.clientWidth || 600;
    const maxHeight = Math.max(200, window.innerHeight * 0.72);
    this.sheet.style.width = `${Math.floor(Math.min(frameWidth, maxHeight * aspect) * this.zoom)}px`;
    const width = this.image.clientWidth || 1;
    const height = this.image.clientHeight || 1;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.draw();
  }

  draw() {
    const context = this.canvas.getContext('2d');
    const { width, height } = this.canvas;
    context.clearRect(0, 0, width, height);
    const long = Math.max(width, height);
    const strokes = [...this.theirs, ...this.mine, ...(this.current ? [this.current] : [])];
    context.lineCap = 'round';
    context.lineJoin = 'round';
    for (const stroke of strokes) {
      if (stroke.page !== this.page) continue;
      context.strokeStyle = stroke.colour;
      context.fillStyle = stroke.colour;
      context.lineWidth = Math.max(1, (stroke.width * long) / 1000);
      const [first, ...rest] = stroke.points;
      context.beginPath();
      if (rest.length === 0) {
        context.arc(first[0] * width, first[1] * height, context.lineWidth / 2, 0, 2 * Math.PI);
        context.fill();
        continue;
      }
      context.moveTo(first[0] * width, first[1] * height);
      for (const [x, y] of rest) context.lineTo(x * width, y * height);
      context.stroke();
    }
  }

  setTool(tool) {
    this.tool = tool;
    for (const [name, node] of Object.entries(this.toolButtons)) node.setAttribute('aria-pressed', String(name === tool));
    this.frame.dataset.tool = tool;
    this.say({ move: 'Outil : déplacer', pen: 'Outil : crayon', eraser: 'Outil : gomme' }[tool]);
  }

  setZoom(zoom) {
    this.zoom = Math.min(4, Math.max(1, zoom));
    this.layout();
  }

  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else this.root.requestFullscreen?.().catch(() => {});
  }

  undo() {
    if (this.mine.length === 0) return;
    this.mine.pop();
    this.dirty = true;
    this.draw();
    this.say('Dernier trait annulé.');
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    return [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000];
  }

  erase([x, y]) {
    const before = this.mine.length;
    this.mine = this.mine.filter(
      (stroke) => stroke.page !== this.page || !stroke.points.some(([px, py]) => Math.hypot(px - x, py - y) < ERASER_RADIUS),
    );
    if (this.mine.length !== before) {
      this.dirty = true;
      this.draw();
    }
  }

  bindPointer() {
    const frame = this.frame;
    frame.addEventListener('pointerdown', (event) => {
      this.pointers.set(event.pointerId, [event.clientX, event.clientY]);
      if (this.pointers.size === 2) {
        this.current = null; // two fingers: a pinch, never a stroke
        const [a, b] = [...this.pointers.values()];
        this.pinch = { distance: Math.hypot(a[0] - b[0], a[1] - b[1]), zoom: this.zoom };
        this.draw();
        return;
      }
      if (this.tool === 'move' || event.target !== this.canvas) {
        this.swipe = { x: event.clientX, y: event.clientY };
        return;
      }
      event.preventDefault();
      this.canvas.setPointerCapture?.(event.pointerId);
      if (this.tool === 'eraser') {
        this.erasing = true;
        this.erase(this.point(event));
        return;
      }
      this.current = { page: this.page, colour: this.colour.value, width: PEN_WIDTH, points: [this.point(event)] };
      this.draw();
    });
    frame.addEventListener('pointermove', (event) => {
      if (!this.pointers.has(event.pointerId)) return;
      this.pointers.set(event.pointerId, [event.clientX, event.clientY]);
      if (this.pinch && this.pointers.size === 2) {
        const [a, b] = [...this.pointers.values()];
        this.setZoom((this.pinch.zoom * Math.hypot(a[0] - b[0], a[1] - b[1])) / (this.pinch.distance || 1));
        return;
      }
      if (this.erasing) this.erase(this.point(event));
      else if (this.current) {
        this.current.points.push(this.point(event));
        this.draw();
      }
    });
    const end = (event) => {
      this.pointers.delete(event.pointerId);
      if (this.pointers.size < 2) this.pinch = null;
      if (this.swipe && this.zoom === 1) {
        const dx = event.clientX - this.swipe.x;
        const dy = event.clientY - this.swipe.y;
        if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 2 * Math.abs(dy)) this.go(this.page + (dx < 0 ? 1 : -1));
      }
      this.swipe = null;
      this.erasing = false;
      if (this.current) {
        this.mine.push(this.current);
        this.current = null;
        this.dirty = true;
        this.draw();
      }
    };
    frame.addEventListener('pointerup', end);
    frame.addEventListener('pointercancel', end);
  }

  onKey(event) {
    const keys = {
      ArrowRight: () => this.go(this.page + 1),
      ArrowLeft: () => this.go(this.page - 1),
      PageDown: () => this.go(this.page + 1),
      PageUp: () => this.go(this.page - 1),
      '+': () => this.setZoom(this.zoom * 1.25),
      '-': () => this.setZoom(this.zoom / 1.25),
    };
    const action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  }

  async send() {
    const body = new FormData();
    body.append('strokes', JSON.stringify(this.mine));
    let address;
    if (this.side === 'pupil') {
      address = `${this.base}rendre/`;
      body.append('answer', this.answer.value);
      for (const file of this.photoInput.files) body.append('photo', file);
    } else {
      address = `${this.base}corriger/`;
      body.append('comment', this.comment.value);
    }
    this.say('Envoi en cours…');
    const response = await fetch(address, {
      method: 'POST',
      body,
      headers: { 'X-CSRFToken': csrfToken(), Accept: 'application/json' },
      credentials: 'same-origin',
    }).catch(() => null);
    if (!response) {
      this.say("L'envoi n'a pas abouti : vérifie la connexion et réessaie.");
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      this.say(answer.error || "L'envoi est refusé : rien n'a été enregistré.");
      return;
    }
    this.dirty = false;
    if (this.photoInput) this.photoInput.value = '';
    const message = this.side === 'pupil' ? 'Ton travail est rendu.' : "La correction est rendue à l'élève.";
    this.say(message);
    await this.refresh();
    this.onDone(message);
  }

  say(message) {
    this.status.textContent = message;
  }
}

// The stand-alone page (/travail/<id>/voir/).
const page = document.getElementById('work-viewer');
if (page) {
  const viewer = new WorkViewer(page.querySelector('[data-viewer-root]') || page, {
    workId: page.dataset.work,
    side: page.dataset.side,
  });
  viewer.refresh();
}
