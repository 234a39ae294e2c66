// Class station: crop and scale the class camera's frames, off the page's main thread.
//
// Receives the camera's frames (a MediaStreamTrackProcessor's readable) and writes the
// frames to send (a MediaStreamTrackGenerator's writable): for each frame, the region of
// the current view, drawn at the sent size (1280x720) on an OffscreenCanvas. A frame is
// never queued: when the encoder is behind, the processor drops camera frames.

import { cropRect, FULL_VIEW } from './view.js';

let view = FULL_VIEW;
let viewSeq = 0;
let shownSeq = -1;
let source = null;

self.addEventListener('message', ({ data }) => {
  if (data.type === 'view') {
    view = data.view;
    viewSeq = data.seq;
  } else if (data.type === 'start') {
    run(data).catch((err) => self.postMessage({ type: 'error', message: String(err) }));
  }
});

async function run({ readable, writable, width, height }) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { alpha: false, desynchronized: true });
  ctx.imageSmoothingQuality = 'medium';
  let frames = 0;
  let busyMs = 0;
  let reportAt = performance.now();
  const transform = new TransformStream({
    transform(frame, controller) {
      const started = performance.now();
      const w = frame.displayWidth;
      const h = frame.displayHeight;
      if (!source || source.width !== w || source.height !== h) {
        source = { width: w, height: h };
        self.postMessage({ type: 'source', width: w, height: h });
      }
      const rect = cropRect(view, w, h);
      try {
        ctx.drawImage(frame, rect.x, rect.y, rect.width, rect.height, 0, 0, width, height);
        controller.enqueue(
          new VideoFrame(canvas, { timestamp: frame.timestamp, duration: frame.duration ?? undefined }),
        );
      } finally {
        frame.close();
      }
      if (shownSeq !== viewSeq) {
        shownSeq = viewSeq;
        self.postMessage({ type: 'applied', seq: viewSeq, at: performance.timeOrigin + performance.now() });
      }
      frames += 1;
      busyMs += performance.now() - started;
      if (started - reportAt >= 2000) {
        self.postMessage({ type: 'stats', frames, busyMs, seconds: (started - reportAt) / 1000 });
        frames = 0;
        busyMs = 0;
        reportAt = started;
      }
    },
  });
  await readable.pipeThrough(transform).pipeTo(writable);
}
