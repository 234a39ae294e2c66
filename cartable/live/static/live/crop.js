// Class station: the class camera as the pupil chose to see it.
//
// The camera is captured at its highest resolution (up to CLASS_CAPTURE); what is sent is
// the region of the current view, cropped and scaled to 1280x720 on the class side, so a
// zoom shows the camera's own detail rather than enlarged pixels. Where the camera has
// optical pan, tilt and zoom (the `pan`, `tilt`, `zoom` constraints), those move the
// camera instead and the picture is sent whole.
//
// The work is done off the main thread when the browser can (MediaStreamTrackProcessor and
// MediaStreamTrackGenerator, frames handed to a worker); otherwise on a canvas, drawn at
// each frame of the camera (requestVideoFrameCallback) and captured as a stream.

import { clampView, cropRect, FULL_VIEW, MAX_ZOOM, OUTPUT } from './view.js';

export class ViewCropper extends EventTarget {
  /** @param {MediaStreamTrack} source the class camera, at full resolution */
  constructor(source) {
    super();
    this.source = source;
    this.view = FULL_VIEW;
    this.seq = 0;
    this.worker = null;
    this.output = null;
    this.canvasLoop = null;
    this.optical = null;
    const settings = source.getSettings();
    this.sourceSize = { width: settings.width || 0, height: settings.height || 0 };
    this.stats = null;
    this.mode = null;
  }

  get aspect() {
    const { width, height } = this.sourceSize;
    return width && height ? width / height : OUTPUT.width / OUTPUT.height;
  }

  get maxZoom() {
    return MAX_ZOOM;
  }

  /** Start cropping; resolves to the track to send. */
  async start() {
    this.optical = opticalRanges(this.source);
    if (typeof MediaStreamTrackProcessor === 'function' && typeof MediaStreamTrackGenerator === 'function') {
      try {
        return this.startWorker();
      } catch (err) {
        console.warn('crop worker', err);
      }
    }
    return this.startCanvas();
  }

  startWorker() {
    const processor = new MediaStreamTrackProcessor({ track: this.source, maxBufferSize: 1 });
    const generator = new MediaStreamTrackGenerator({ kind: 'video' });
    const worker = new Worker(new URL('./crop-worker.js', import.meta.url), { type: 'module' });
    worker.addEventListener('message', ({ data }) => this.onWorker(data));
    worker.postMessage(
      {
        type: 'start',
        readable: processor.readable,
        writable: generator.writable,
        width: OUTPUT.width,
        height: OUTPUT.height,
      },
      [processor.readable, generator.writable],
    );
    this.worker = worker;
    this.output = generator;
    this.mode = 'worker';
    this.post();
    return generator;
  }

  startCanvas() {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([this.source]);
    video.play().catch(() => {});
    const canvas = document.createElement('canvas');
    canvas.width = OUTPUT.width;
    canvas.height = OUTPUT.height;
    const ctx = canvas.getContext('2d', { alpha: false });
    const [track] = canvas.captureStream(30).getVideoTracks();
    let shown = -1;
    const draw = () => {
      if (this.canvasLoop !== draw) return;
      if (video.videoWidth) {
        this.sourceSize = { width: video.videoWidth, height: video.videoHeight };
        const view = this.digitalView();
        const rect = cropRect(view, video.videoWidth, video.videoHeight);
        ctx.drawImage(video, rect.x, rect.y, rect.width, rect.height, 0, 0, canvas.width, canvas.height);
        if (shown !== this.seq) {
          shown = this.seq;
          this.emit('applied', { seq: this.seq, at: performance.timeOrigin + performance.now() });
        }
      }
      video.requestVideoFrameCallback(draw);
    };
    this.canvasLoop = draw;
    video.requestVideoFrameCallback(draw);
    this.output = track;
    this.mode = 'canvas';
    this.canvasVideo = video;
    return track;
  }

  onWorker(data) {
    if (data.type === 'source') {
      this.sourceSize = { width: data.width, height: data.height };
      this.emit('source', this.sourceSize);
    } else if (data.type === 'applied') {
      this.emit('applied', { seq: data.seq, at: data.at });
    } else if (data.type === 'stats') {
      this.stats = data;
    } else if (data.type === 'error') {
      console.error('crop worker', data.message);
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** The region to crop: the view itself, or the whole picture when the camera moves. */
  digitalView() {
    return this.optical ? FULL_VIEW : this.view;
  }

  post() {
    this.worker?.postMessage({ type: 'view', view: this.digitalView(), seq: this.seq });
  }

  /** Show `view` from the next frame on. Returns the view as applied (clamped). */
  setView(view) {
    this.view = clampView(view, { maxZoom: this.maxZoom, aspect: this.aspect });
    this.seq += 1;
    if (this.optical) this.applyOptical(this.view);
    this.post();
    return this.view;
  }

  /** Optical pan, tilt and zoom: untested with the fake cameras, which have none. */
  applyOptical(view) {
    const { pan, tilt, zoom } = this.optical;
    const advanced = {};
    const at = (range, fraction) => range.min + (range.max - range.min) * fraction;
    if (zoom) advanced.zoom = at(zoom, (view.zoom - 1) / (this.maxZoom - 1));
    if (pan) advanced.pan = at(pan, view.x);
    if (tilt) advanced.tilt = at(tilt, 1 - view.y);
    this.source.applyConstraints({ advanced: [advanced] }).catch((err) => {
      console.warn('optical view', err);
    });
  }

  stop() {
    this.worker?.terminate();
    this.worker = null;
    this.canvasLoop = null;
    if (this.canvasVideo) this.canvasVideo.srcObject = null;
    this.output?.stop();
    this.output = null;
  }
}

/**
 * The camera's optical ranges when it has all of pan, tilt and zoom (a PTZ camera); else
 * null, and the view is cropped digitally (a zoom-only camera could not look around).
 */
export function opticalRanges(track) {
  const capabilities = track.getCapabilities ? track.getCapabilities() : {};
  const range = (name) => {
    const r = capabilities[name];
    return r && typeof r.min === 'number' && typeof r.max === 'number' && r.max > r.min ? r : null;
  };
  const ranges = { pan: range('pan'), tilt: range('tilt'), zoom: range('zoom') };
  return ranges.pan && ranges.tilt && ranges.zoom ? ranges : null;
}
