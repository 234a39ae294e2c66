// The live link: signalling WebSocket and WebRTC peer connection. Knows no DOM.
//
// Pages create one LiveLink, listen to its events and call its methods; everything about
// the protocol (docs/protocol.md) and about negotiation lives here.
//
// Negotiation follows the "perfect negotiation" pattern: the pupil side is polite (it
// yields on an offer collision), the class side is impolite. The class offers the media
// layout once: board camera, class camera, class microphone (sent), and a slot for the
// pupil's camera (received). The pupil answers, putting its microphone on the audio
// transceiver and its camera, when on, in the camera slot with replaceTrack: turning the
// camera on or off never needs a new negotiation.

export const PROTOCOL_VERSION = 1;

/** @typedef {'class'|'pupil'} Side */
/** @typedef {'board'|'class'|'audio'|'pupil_camera'} TrackLabel */

/**
 * Events (all CustomEvent, details in brackets):
 *  - 'welcome' {side, session, peerName}
 *  - 'peer' {present: boolean}
 *  - 'session' {live: boolean, reason?: string}
 *  - 'track' {label: TrackLabel, track: MediaStreamTrack}
 *  - 'media' {microphone: boolean, camera: boolean} (what the other side sends)
 *  - 'connection' {state: RTCPeerConnectionState}
 *  - 'protocol-error' {code, message}
 *  - 'closed' {code, reason}
 */
export class LiveLink extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.url WebSocket URL of the loan's live link
   * @param {Side} options.side
   */
  constructor({ url, side }) {
    super();
    this.url = url;
    this.side = side;
    /** @type {WebSocket|null} */
    this.ws = null;
    /** @type {RTCPeerConnection|null} */
    this.pc = null;
    this.polite = side === 'pupil';
    this.iceServers = [];
    this.sessionLive = false;
    this.peerPresent = false;
    this.makingOffer = false;
    this.ignoreOffer = false;
    /** Class side: local tracks by label. @type {Partial<Record<TrackLabel, MediaStreamTrack|null>>} */
    this.local = {};
    /** Labels of transceivers, by mid (sent by the class side with its offers). */
    this.labelsByMid = {};
    /** Pupil side: the tracks the pupil sends. */
    this.microphone = null;
    this.camera = null;
  }

  /** Open the signalling connection and say hello. Resolves on welcome. */
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      let welcomed = false;
      ws.addEventListener('open', () => {
        this.send({ type: 'hello', version: PROTOCOL_VERSION, client: 'cartable-web' });
      });
      ws.addEventListener('message', (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (message.type === 'welcome') {
          welcomed = true;
          resolve(message);
        }
        this.onMessage(message).catch((err) => console.error('live link', err));
      });
      ws.addEventListener('close', (event) => {
        if (this.ws === ws) this.ws = null;
        this.closePeer();
        if (!welcomed) reject(new Error(`refused (${event.code})`));
        this.emit('closed', { code: event.code, reason: event.reason });
      });
    });
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Class side: ask the server to start (or resume) the session. */
  start() {
    this.send({ type: 'start' });
  }

  /** Class side: end the session for both sides. */
  end() {
    this.send({ type: 'end' });
  }

  /** Leave: close signalling and media; the session goes on for the other side. */
  leave() {
    this.send({ type: 'leave' });
    this.closePeer();
    if (this.ws) this.ws.close(1000);
  }

  /** Tell the other side what this side sends (shown there). */
  announceMedia({ microphone, camera }) {
    this.send({ type: 'media', microphone, camera });
  }

  async onMessage(message) {
    switch (message.type) {
      case 'welcome':
        this.iceServers = message.ice_servers || [];
        this.sessionLive = Boolean(message.session);
        this.emit('welcome', {
          side: message.side,
          session: message.session,
          peerName: message.peer_name,
        });
        this.emit('session', { live: this.sessionLive });
        break;
      case 'peer_joined':
        // A new connection of the other side (it reloaded, or replaced an older tab):
        // whatever was negotiated with the old one is gone, so start afresh.
        this.closePeer();
        this.peerPresent = true;
        this.emit('peer', { present: true });
        this.maybeStartPeer();
        break;
      case 'peer_left':
        this.peerPresent = false;
        this.closePeer();
        this.emit('peer', { present: false });
        break;
      case 'session_started':
        this.sessionLive = true;
        this.emit('session', { live: true });
        this.maybeStartPeer();
        break;
      case 'session_ended':
        this.sessionLive = false;
        this.closePeer();
        this.emit('session', { live: false, reason: message.reason });
        break;
      case 'signal':
        await this.onSignal(message);
        break;
      case 'media':
        this.emit('media', { microphone: message.microphone, camera: message.camera });
        break;
      case 'error':
        this.emit('protocol-error', { code: message.code, message: message.message });
        break;
      default:
        break;
    }
  }

  // Peer connection ---------------------------------------------------------------------

  /** The class side opens the peer connection once the pupil is there and media is ready. */
  maybeStartPeer() {
    if (this.side !== 'class' || this.pc || !this.sessionLive || !this.peerPresent) return;
    if (!this.local.board && !this.local.class) return;
    const pc = this.createPeer();
    const board = new MediaStream();
    const klass = new MediaStream();
    pc.addTransceiver(this.local.board || 'video', {
      direction: 'sendonly',
      streams: [board],
    });
    pc.addTransceiver(this.local.class || 'video', {
      direction: 'sendonly',
      streams: [klass],
    });
    pc.addTransceiver(this.local.audio || 'audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    this.classLabels = ['board', 'class', 'audio', 'pupil_camera'];
  }

  /** Class side: set or replace a local track (a camera swapped, media acquired late). */
  async setLocalTrack(label, track) {
    this.local[label] = track;
    if (!this.pc) {
      this.maybeStartPeer();
      return;
    }
    const index = this.classLabels.indexOf(label);
    const transceiver = this.pc.getTransceivers()[index];
    if (transceiver) await transceiver.sender.replaceTrack(track);
  }

  /** Class side: forget local tracks (they were stopped at the end of a session). */
  clearLocal() {
    this.local = {};
  }

  /** Pupil side: the microphone track (muted with track.enabled, kept for the session). */
  async setMicrophone(track) {
    this.microphone = track;
    await this.bindPupilMedia();
  }

  /** Pupil side: the camera track, or null when the pupil turns it off. */
  async setCamera(track) {
    this.camera = track;
    await this.bindPupilMedia();
  }

  /** Pupil side: put the pupil's tracks on the transceivers the class offered for them. */
  async bindPupilMedia() {
    if (!this.pc) return;
    for (const transceiver of this.pc.getTransceivers()) {
      const label = this.labelsByMid[transceiver.mid];
      if (label === 'audio') {
        if (transceiver.direction !== 'sendrecv') transceiver.direction = 'sendrecv';
        if (transceiver.sender.track !== this.microphone) {
          await transceiver.sender.replaceTrack(this.microphone);
        }
      } else if (label === 'pupil_camera') {
        if (transceiver.direction !== 'sendonly') transceiver.direction = 'sendonly';
        if (transceiver.sender.track !== this.camera) {
          await transceiver.sender.replaceTrack(this.camera);
        }
      }
    }
  }

  createPeer() {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    this.makingOffer = false;
    this.ignoreOffer = false;
    pc.addEventListener('negotiationneeded', async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.sendDescription(pc);
      } catch (err) {
        console.error('negotiation', err);
      } finally {
        this.makingOffer = false;
      }
    });
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (candidate && this.pc === pc) {
        this.send({ type: 'signal', candidate: candidate.toJSON() });
      }
    });
    pc.addEventListener('track', ({ track, transceiver }) => {
      const label = this.labelOf(transceiver);
      if (label) this.emit('track', { label, track });
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc === pc) this.emit('connection', { state: pc.connectionState });
    });
    return pc;
  }

  /** @returns {TrackLabel|undefined} */
  labelOf(transceiver) {
    if (this.side === 'class') {
      const index = this.pc.getTransceivers().indexOf(transceiver);
      return this.classLabels[index];
    }
    return this.labelsByMid[transceiver.mid];
  }

  sendDescription(pc) {
    const message = { type: 'signal', description: pc.localDescription.toJSON() };
    if (this.side === 'class') {
      message.tracks = {};
      pc.getTransceivers().forEach((transceiver, index) => {
        if (transceiver.mid !== null) message.tracks[transceiver.mid] = this.classLabels[index];
      });
    }
    this.send(message);
  }

  async onSignal({ description, candidate, tracks }) {
    if (tracks) Object.assign(this.labelsByMid, tracks);
    if (!this.pc) {
      // The pupil side opens its peer connection when the first offer arrives.
      if (this.side !== 'pupil' || !description || description.type !== 'offer') return;
      this.labelsByMid = { ...(tracks || {}) };
      this.createPeer();
    }
    const pc = this.pc;
    if (description) {
      const collision =
        description.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        if (this.side === 'pupil') await this.bindPupilMedia();
        await pc.setLocalDescription();
        this.sendDescription(pc);
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (err) {
        if (!this.ignoreOffer) console.warn('candidate', err);
      }
    }
  }

  closePeer() {
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      // Closing ends every received track; the pages stop their own local tracks.
      pc.close();
      this.emit('connection', { state: 'closed' });
    }
  }
}
