// The class camera's view: where the pupil looks and how close. Knows no network.
//
// A view is {x, y, zoom}: the centre of the region shown, as fractions of the camera's
// picture (0 to 1, left to right and top to bottom), and how many times closer than the
// whole picture (1 = everything, 2 = a quarter of the area). The region always has the
// sent stream's shape (16:9) and always stays inside the picture: `clampView` moves the
// centre back in. Both pages use the same arithmetic, so the pupil's page can follow its
// own drags at once while the class station stays the one that decides.

export const OUTPUT = { width: 1280, height: 720 };
export const OUTPUT_ASPECT = OUTPUT.width / OUTPUT.height;
export const MAX_ZOOM = 4;
export const ZOOM_STEP = 1.25;
export const FULL_VIEW = Object.freeze({ x: 0.5, y: 0.5, zoom: 1 });

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/**
 * The region of a source of `aspect` (width / height) a zoom shows, as fractions of the
 * source's width and height: the largest 16:9 region at zoom 1, smaller as the zoom grows.
 */
export function regionSize(zoom, aspect = OUTPUT_ASPECT) {
  const width = aspect >= OUTPUT_ASPECT ? OUTPUT_ASPECT / aspect : 1;
  const height = aspect >= OUTPUT_ASPECT ? 1 : aspect / OUTPUT_ASPECT;
  return { width: width / zoom, height: height / zoom };
}

/** The nearest valid view: zoom within [1, maxZoom], the region inside the picture. */
export function clampView(view, { maxZoom = MAX_ZOOM, aspect = OUTPUT_ASPECT } = {}) {
  const zoom = clamp(Number.isFinite(view.zoom) ? view.zoom : 1, 1, maxZoom);
  const size = regionSize(zoom, aspect);
  const x = clamp(Number.isFinite(view.x) ? view.x : 0.5, size.width / 2, 1 - size.width / 2);
  const y = clamp(Number.isFinite(view.y) ? view.y : 0.5, size.height / 2, 1 - size.height / 2);
  return { x, y, zoom };
}

/** The region of a `width`x`height` source a view shows, in source pixels (whole, even). */
export function cropRect(view, width, height) {
  const clamped = clampView(view, { aspect: width / height });
  const size = regionSize(clamped.zoom, width / height);
  const even = (v) => 2 * Math.round(v / 2);
  const w = Math.max(2, Math.min(width, even(size.width * width)));
  const h = Math.max(2, Math.min(height, even(size.height * height)));
  const x = clamp(even(clamped.x * width - w / 2), 0, width - w);
  const y = clamp(even(clamped.y * height - h / 2), 0, height - h);
  return { x, y, width: w, height: h };
}

/** Two views are the same for the eye (rounding of a few thousandths aside). */
export function sameView(a, b) {
  return (
    Math.abs(a.x - b.x) < 0.002 && Math.abs(a.y - b.y) < 0.002 && Math.abs(a.zoom - b.zoom) < 0.01
  );
}

/** A step of the arrows: a quarter of the region shown, in the direction pressed. */
export function stepView(view, direction, options) {
  const size = regionSize(view.zoom, options?.aspect);
  const moves = {
    left: [-size.width / 4, 0],
    right: [size.width / 4, 0],
    up: [0, -size.height / 4],
    down: [0, size.height / 4],
  };
  const [dx, dy] = moves[direction];
  return clampView({ x: view.x + dx, y: view.y + dy, zoom: view.zoom }, options);
}

/** Zoom in (factor > 1) or out around the same centre. */
export function zoomView(view, factor, options) {
  return clampView({ ...view, zoom: view.zoom * factor }, options);
}

/** Words for a view, for the status region: « zoom ×2 ». */
export function zoomWords(view) {
  return `zoom ×${view.zoom.toLocaleString('fr-FR', { maximumFractionDigits: 1 })}`;
}

const KEYS = {
  ArrowLeft: ['step', 'left'],
  ArrowRight: ['step', 'right'],
  ArrowUp: ['step', 'up'],
  ArrowDown: ['step', 'down'],
  '+': ['zoom', ZOOM_STEP],
  '=': ['zoom', ZOOM_STEP],
  Add: ['zoom', ZOOM_STEP],
  '-': ['zoom', 1 / ZOOM_STEP],
  '−': ['zoom', 1 / ZOOM_STEP],
  Subtract: ['zoom', 1 / ZOOM_STEP],
};

/**
 * Steering by hand on `surface` (the video showing the view) and by keyboard on `keyTarget`:
 * drag or swipe to look around, pinch or the wheel to zoom, arrows and + / − keys.
 * `getView()` gives the view now; `onView(view, how)` is called with each new one, `how`
 * being 'drag', 'pinch', 'wheel', 'key-step' or 'key-zoom'.
 */
export function bindSteering({ surface, keyTarget, getView, getOptions, onView }) {
  const pointers = new Map();
  let start = null;

  const begin = () => {
    const points = [...pointers.values()];
    const view = getView();
    if (points.length === 1) {
      start = { view, x: points[0].x, y: points[0].y, distance: null };
    } else if (points.length >= 2) {
      const [a, b] = points;
      start = {
        view,
        x: (a.x + b.x) / 2,
        y: (a.y + b.y) / 2,
        distance: Math.hypot(a.x - b.x, a.y - b.y) || 1,
      };
    }
  };

  surface.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 && event.pointerType === 'mouse') return;
    surface.setPointerCapture?.(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    begin();
  });
  surface.addEventListener('pointermove', (event) => {
    if (!pointers.has(event.pointerId) || !start) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const box = surface.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const options = getOptions();
    const size = regionSize(start.view.zoom, options.aspect);
    const points = [...pointers.values()];
    let zoom = start.view.zoom;
    let cx = points[0].x;
    let cy = points[0].y;
    if (points.length >= 2 && start.distance) {
      const [a, b] = points;
      zoom = start.view.zoom * (Math.hypot(a.x - b.x, a.y - b.y) / start.distance);
      cx = (a.x + b.x) / 2;
      cy = (a.y + b.y) / 2;
    }
    // Dragging moves the picture under the finger: the view goes the other way.
    const view = {
      x: start.view.x - ((cx - start.x) / box.width) * size.width,
      y: start.view.y - ((cy - start.y) / box.height) * size.height,
      zoom,
    };
    onView(clampView(view, options), points.length >= 2 ? 'pinch' : 'drag');
  });
  const end = (event) => {
    if (!pointers.delete(event.pointerId)) return;
    begin();
    if (!pointers.size) start = null;
  };
  surface.addEventListener('pointerup', end);
  surface.addEventListener('pointercancel', end);
  surface.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const factor = event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP;
      onView(zoomView(getView(), factor, getOptions()), 'wheel');
    },
    { passive: false },
  );

  keyTarget.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    // Keys typed in a text field are text, not steering.
    if (event.target.closest?.('input, textarea, select')) return;
    const action = KEYS[event.key];
    if (!action) return;
    event.preventDefault();
    const options = getOptions();
    if (action[0] === 'step') onView(stepView(getView(), action[1], options), 'key-step');
    else onView(zoomView(getView(), action[1], options), 'key-zoom');
  });
}

/** The arrow and zoom buttons of a steering pad (`[data-steer]` inside `pad`). */
export function bindPad(pad, { getView, getOptions, onView }) {
  for (const button of pad.querySelectorAll('[data-steer]')) {
    button.addEventListener('click', () => {
      const action = button.dataset.steer;
      const options = getOptions();
      if (action === 'in') onView(zoomView(getView(), ZOOM_STEP, options), 'key-zoom');
      else if (action === 'out') onView(zoomView(getView(), 1 / ZOOM_STEP, options), 'key-zoom');
      else onView(stepView(getView(), action, options), 'key-step');
    });
  }
}
