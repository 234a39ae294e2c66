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
// camera on or off never needs a new negotiation, and neither do the privacy pause and the
// data-saving mode.
//
// The class also opens two data channels, 'view' and 'stills' (peer.js): the pupil's view
// commands and the board's stills go over them, peer to peer; the server never sees them.
//
// The link keeps going by itself: a dropped WebSocket reconnects with backoff while the
// peer connection (and so the media) carries on; a failed media path is brought back by an
// ICE restart.

export const PROTOCOL_VERSION = 1;

/** @typedef {'class'|'pupil'} Side */
/** @typedef {'board'|'class'|'audio'|'pupil_camera'} TrackLabel */

const CLASS_LABELS = /** @type {TrackLabel[]} */ (['board', 'class', 'audio', 'pupil_camera']);
// Close codes after which reconnecting is pointless (docs/protocol.md, "Closing").
const FINAL_CLOSES = new Set([1000, 4400, 4403, 4409, 4410, 4413, 4429]);
// The server lost its message bus (Redis restarting) and asks to come back, even when this
// was the very first connection.
const TRY_AGAIN = 1013;
// The first try comes quickly: most cuts are a brief network change or a server restart.
const BACKOFF_MS = [100, 500, 1000, 2000, 4000, 8000];
// A path "disconnected" this long is restarted (docs/protocol.md, "ICE restart").
const ICE_RESTART_AFTER_MS = 1000;
const MAX_ATTEMPTS = 40; // about five minutes of trying
const QUALITY_EVERY_MS = 3000;
// Sending priorities: on a poor link, audio first, then the board, then the class.
const SEND_ENCODINGS = {
  board: { priority: 'high', networkPriority: 'high', maxBitrate: 2_500_000 },
  class: { priority: 'low', networkPriority: 'low', maxBitrate: 1_200_000 },
  audio: { priority: 'high', networkPriority: 'high' },
};
// Relayed messages a page may listen to, each dispatched as an event of the same name.
// (kit_presence and the schoolwork's 'work' are the server's own, heard the same way.)
const RELAYED = ['hand', 'floor', 'cue', 'chat', 'reaction', 'pause', 'economy', 'quality', 'kit_state', 'kit_presence', 'work'];
// Data channels the class opens, in this order, after the transceivers (docs/protocol.md,
// "Peer-to-peer messages"): reliable and ordered.
export const DATA_CHANNELS = ['view', 'stills'];

function newId() {
  return Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
}

/**
 * Events (all CustomEvent, details in brackets):
 *  - 'welcome' {side, session, peerName}
 *  - 'peer' {present: boolean, reason?: 'left'|'lost'}
 *  - 'session' {live: boolean, reason?: string}
 *  - 'track' {label: TrackLabel, track: MediaStreamTrack}
 *  - 'channel' {label: 'view'|'stills', channel: RTCDataChannel} (a new peer connection's)
 *  - 'media' {microphone: boolean, camera: boolean} (what the other side sends)
 *  - 'connection' {state: RTCPeerConnectionState}
 *  - 'signalling' {state: 'reconnecting'|'restored'}
 *  - 'local-quality' {level, reasons, ...} (what this side receives, also sent to the other)
 *  - 'hand', 'floor', 'cue', 'chat', 'reaction', 'pause', 'economy', 'quality': the message
 *  - 'protocol-error' {code, message, missing?}
 *  - 'closed' {code, reason} (final: no more reconnection)
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
    this.pcId = null;
    this.remotePcId = null;
    this.polite = side === 'pupil';
    this.iceServers = [];
    this.iceTransportPolicy = 'all';
    this.sessionLive = false;
    this.peerPresent = false;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.stopped = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.qualityTimer = null;
    this.lastStats = null;
    this.iceTimer = null;
    this.remoteCamera = false;
    /** Class side: local tracks by label. @type {Partial<Record<TrackLabel, MediaStreamTrack|null>>} */
    this.local = {};
    this.paused = false;
    this.economy = false;
    /** Labels of transceivers, by mid (sent by the class side with its offers). */
    this.labelsByMid = {};
    /** Pupil side: the tracks the pupil sends. */
    this.microphone = null;
    this.camera = null;
  }

  /** Open the signalling connection and say hello. Resolves on the first welcome. */
  connect() {
    this.stopped = false;
    return new Promise((resolve, reject) => {
      this.openSocket(resolve, reject);
    });
  }

  openSocket(resolve, reject) {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let welcomed = false;
    ws.addEventListener('open', () => {
      this.send({
        type: 'hello',
        version: PROTOCOL_VERSION,
        client: 'cartable-web',
        ...(this.pcId ? { pc: this.pcId } : {}),
      });
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
        if (this.attempt > 0) {
          this.emit('signalling', { state: 'restored' });
          this.resumeNegotiation();
        }
        this.attempt = 0;
        resolve?.(message);
      }
      this.onMessage(message).catch((err) => console.error('live link', err));
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const firstRefused = !welcomed && this.attempt === 0 && event.code !== TRY_AGAIN;
      if (this.stopped || FINAL_CLOSES.has(event.code) || firstRefused) {
        // Refused, replaced, revoked or left on purpose: this is the end of the link.
        this.stopped = true;
        this.closePeer();
        if (!welcomed) reject?.(new Error(`refused (${event.code})`));
        this.emit('closed', { code: event.code, reason: event.reason });
        return;
      }
      if (this.attempt >= MAX_ATTEMPTS) {
        // Refused again and again (the loan ended, the device was revoked meanwhile).
        this.stopped = true;
        this.closePeer();
        this.emit('closed', { code: event.code, reason: 'gave up reconnecting' });
        return;
      }
      // Cut (network change, server restart): the media goes on, signalling comes back.
      this.peerPresent = false;
      this.emit('signalling', { state: 'reconnecting' });
      const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      // Still the caller's promise when no welcome came yet (a first try asked to retry).
      const retry = () => this.openSocket(resolve, reject);
      this.reconnectTimer = setTimeout(retry, base + Math.random() * base * 0.3);
    });
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
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
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.send({ type: 'leave' });
    this.closePeer();
    if (this.ws) this.ws.close(1000);
  }

  /** Tell the other side what this side sends (shown there). */
  announceMedia({ microphone, camera }) {
    this.send({ type: 'media', microphone, camera });
  }

  raiseHand(raised) {
    return this.send({ type: 'hand', raised });
  }

  giveFloor() {
    return this.send({ type: 'floor' });
  }

  cue(cue) {
    return this.send({ type: 'cue', cue });
  }

  chat(text) {
    return this.send({ type: 'chat', text });
  }

  react(reaction) {
    return this.send({ type: 'reaction', reaction });
  }

  /** Pupil side: ask the class for the data-saving mode. */
  requestEconomy(on) {
    const sent = this.send({ type: 'economy', on });
    if (sent) this.economy = on;
    return sent;
  }

  /**
   * After a signalling cut: an offer made while the socket was down never arrived, so
   * send it again; a path that failed meanwhile needs a new ICE restart.
   */
  resumeNegotiation() {
    const pc = this.pc;
    if (!pc) return;
    if (this.side === 'class' && !this.offered && !this.peerPresent) return; // still held
    if (pc.signalingState === 'have-local-offer' && pc.localDescription) {
      this.sendDescription(pc);
    } else if (this.side === 'class' && ['failed', 'disconnected'].includes(pc.iceConnectionState)) {
      pc.restartIce();
    }
  }

  async onMessage(message) {
    switch (message.type) {
      case 'welcome':
        this.iceServers = message.ice_servers || [];
        this.iceTransportPolicy = message.ice_transport_policy || 'all';
        this.sessionLive = Boolean(message.session);
        if (!this.sessionLive) this.closePeer();
        this.emit('welcome', {
          side: message.side,
          session: message.session,
          peerName: message.peer_name,
        });
        this.emit('session', { live: this.sessionLive });
        this.maybeStartPeer();
        break;
      case 'peer_joined': {
        // The same peer connection on the other side (it only lost its signalling, or the
        // server restarted): keep the media going. Otherwise the other side is a new page
        // and whatever was negotiated with the old one is gone: start afresh, except with
        // the class's prepared peer connection, which no pupil has seen yet.
        const samePeer = this.pc && message.pc && message.pc === this.remotePcId;
        const prepared = this.side === 'class' && this.pc && !this.offered;
        if (!samePeer && !prepared) this.closePeer();
        this.peerPresent = true;
        this.maybeStartPeer();
        // The prepared offer (with the candidates gathered meanwhile) goes at once.
        if (prepared && this.pc.signalingState === 'have-local-offer') this.sendDescription(this.pc);
        this.emit('peer', { present: true });
        if (this.side === 'class' && this.pc) this.sendPause();
        break;
      }
      case 'peer_left':
        this.peerPresent = false;
        // Left on purpose: the media stops. Lost: the media may well go on; the peer
        // connection ends by itself if the other side does not come back.
        if (message.reason !== 'lost') this.closePeer();
        this.emit('peer', { present: false, reason: message.reason });
        // The class prepares the next pupil's peer connection at once.
        this.maybeStartPeer();
        break;
      case 'session_started':
        // The relay's credentials come with the session they are valid for.
        if (message.ice_servers) this.iceServers = message.ice_servers;
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
        if (message.pc) this.remotePcId = message.pc;
        await this.onSignal(message);
        break;
      case 'media':
        this.remoteCamera = message.camera;
        this.emit('media', { microphone: message.microphone, camera: message.camera });
        break;
      case 'pause':
        // Pupil side: no class picture is expected during the pause (no quality alarm).
        if (this.side === 'pupil') this.paused = message.paused;
        this.emit('pause', message);
        break;
      case 'economy':
        if (this.side === 'class') await this.setEconomy(message.on);
        this.emit('economy', message);
        break;
      case 'error':
        this.emit('protocol-error', {
          code: message.code,
          message: message.message,
          missing: message.missing, // consent_missing: what is missing, in French
        });
        break;
      default:
        if (RELAYED.includes(message.type)) this.emit(message.type, message);
        break;
    }
  }

  // Peer connection ---------------------------------------------------------------------

  /**
   * The class side opens the peer connection as soon as the session is live and its media
   * is ready, before the pupil is there: the offer is made and the candidates gathered
   * beforehand, and all of it goes to the pupil the moment the pupil joins (docs/protocol.md,
   * "Negotiation"). Nothing is sent while the pupil is away.
   */
  maybeStartPeer() {
    if (this.side !== 'class' || this.pc || !this.sessionLive) return;
    if (!this.local.board && !this.local.class) return;
    const pc = this.createPeer();
    for (const label of ['board', 'class']) {
      pc.addTransceiver(this.sending(label), {
        direction: 'sendonly',
        streams: [new MediaStream()],
        sendEncodings: [SEND_ENCODINGS[label]],
      });
    }
    pc.addTransceiver(this.sending('audio') || 'audio', {
      direction: 'sendrecv',
      sendEncodings: [SEND_ENCODINGS.audio],
    });
    pc.addTransceiver('video', { direction: 'recvonly' });
    // After the transceivers, so their mids stay 0 to 3; one offer carries everything.
    for (const label of DATA_CHANNELS) {
      this.emit('channel', { label, channel: pc.createDataChannel(label, { ordered: true }) });
    }
  }

  /** Class side: what a sender sends now: nothing during the pause or economy. */
  sending(label) {
    if (this.paused) return label === 'audio' ? null : 'video';
    if (label === 'class' && this.economy) return 'video';
    return this.local[label] || (label === 'audio' ? null : 'video');
  }

  classTransceiver(label) {
    return this.pc ? this.pc.getTransceivers()[CLASS_LABELS.indexOf(label)] : null;
  }

  /** Class side: put on each sender what it should send now. */
  async applySending() {
    if (!this.pc) return;
    for (const label of ['board', 'class', 'audio']) {
      const transceiver = this.classTransceiver(label);
      if (!transceiver) continue;
      const wanted = this.sending(label);
      const track = typeof wanted === 'string' ? null : wanted;
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    }
    await this.tuneBoard();
  }

  /** Board: sharp text; in the data-saving mode, fewer but sharper frames. */
  async tuneBoard() {
    const transceiver = this.classTransceiver('board');
    if (!transceiver) return;
    try {
      const params = transceiver.sender.getParameters();
      if (!params.encodings || !params.encodings.length) return;
      params.degradationPreference = 'maintain-resolution';
      const encoding = params.encodings[0];
      encoding.scaleResolutionDownBy = 1;
      if (this.economy) {
        encoding.maxFramerate = 5;
        encoding.maxBitrate = 700_000;
      } else {
        delete encoding.maxFramerate;
        encoding.maxBitrate = SEND_ENCODINGS.board.maxBitrate;
      }
      await transceiver.sender.setParameters(params);
    } catch (err) {
      console.warn('board parameters', err);
    }
  }

  /** Class side: set or replace a local track (a camera swapped, media acquired late). */
  async setLocalTrack(label, track) {
    this.local[label] = track;
    if (!this.pc) {
      this.maybeStartPeer();
      return;
    }
    await this.applySending();
  }

  /** Class side: the privacy pause stops every class track at once, without renegotiating. */
  async setPaused(paused) {
    this.paused = paused;
    await this.applySending();
    this.sendPause();
  }

  sendPause() {
    this.send({ type: 'pause', paused: this.paused });
  }

  /** Class side: the pupil's data-saving mode. */
  async setEconomy(on) {
    this.economy = on;
    await this.applySending();
  }

  /** Class side: forget local tracks (they were stopped at the end of a session). */
  clearLocal() {
    this.local = {};
    this.paused = false;
    this.economy = false;
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
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
      bundlePolicy: 'max-bundle',
    });
    this.pc = pc;
    this.pcId = newId();
    this.remotePcId = null;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.lastStats = null;
    // Class side: whether this peer connection's offer has gone to a pupil. Until then
    // the offer is held and its candidates are not sent: they are in the offer when it goes.
    this.offered = false;
    pc.addEventListener('negotiationneeded', async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        if (this.pc !== pc || (this.side === 'class' && !this.peerPresent)) return;
        this.sendDescription(pc);
      } catch (err) {
        console.error('negotiation', err);
      } finally {
        this.makingOffer = false;
      }
    });
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (candidate && this.pc === pc && (this.side !== 'class' || this.offered)) {
        this.send({ type: 'signal', pc: this.pcId, candidate: candidate.toJSON() });
      }
    });
    pc.addEventListener('datachannel', ({ channel }) => {
      // The pupil side takes the class's data channels, each once; nothing else.
      if (this.pc !== pc || this.side !== 'pupil' || !DATA_CHANNELS.includes(channel.label)) {
        channel.close();
        return;
      }
      const seen = (this.channelsSeen ||= new WeakMap());
      const labels = seen.get(pc) || new Set();
      seen.set(pc, labels);
      if (labels.has(channel.label)) {
        channel.close();
        return;
      }
      labels.add(channel.label);
      this.emit('channel', { label: channel.label, channel });
    });
    pc.addEventListener('track', ({ track, transceiver }) => {
      const label = this.labelOf(transceiver);
      if (label) this.emit('track', { label, track });
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc !== pc) return;
      this.emit('connection', { state: pc.connectionState });
      if (pc.connectionState === 'connected' && this.side === 'class') this.tuneBoard();
      // Kept through a "lost" peer, but the peer did not come back and the path is dead.
      if (pc.connectionState === 'failed' && !this.peerPresent) {
        this.closePeer();
        this.maybeStartPeer();
      }
    });
    pc.addEventListener('iceconnectionstatechange', () => this.watchIce(pc));
    clearInterval(this.qualityTimer);
    this.qualityTimer = setInterval(() => this.sampleQuality(pc), QUALITY_EVERY_MS);
    return pc;
  }

  /**
   * Bring a failed media path back with an ICE restart (a network change, Wi-Fi to 4G).
   * The class side restarts: it is the side that offers. A path only "disconnected" often
   * comes back by itself; if it has not within ICE_RESTART_AFTER_MS, restart too, without
   * waiting for "failed".
   */
  watchIce(pc) {
    if (this.pc !== pc || this.side !== 'class') return;
    clearTimeout(this.iceTimer);
    if (pc.iceConnectionState === 'failed') {
      pc.restartIce();
    } else if (pc.iceConnectionState === 'disconnected') {
      this.iceTimer = setTimeout(() => {
        if (this.pc === pc && pc.iceConnectionState === 'disconnected') pc.restartIce();
      }, ICE_RESTART_AFTER_MS);
    }
  }

  /** @returns {TrackLabel|undefined} */
  labelOf(transceiver) {
    if (this.side === 'class') {
      return CLASS_LABELS[this.pc.getTransceivers().indexOf(transceiver)];
    }
    return this.labelsByMid[transceiver.mid];
  }

  sendDescription(pc) {
    const message = {
      type: 'signal',
      pc: this.pcId,
      description: pc.localDescription.toJSON(),
    };
    if (this.side === 'class') {
      if (pc.localDescription.type === 'offer') this.offered = true;
      message.tracks = {};
      pc.getTransceivers().forEach((transceiver, index) => {
        if (transceiver.mid !== null) message.tracks[transceiver.mid] = CLASS_LABELS[index];
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
      const remote = this.remotePcId;
      this.createPeer();
      this.remotePcId = remote;
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

  /**
   * Sample what this side receives and send a compact summary: the other side shows it,
   * the server keeps aggregates for reports. Levels: poor, degraded or good.
   */
  async sampleQuality(pc) {
    if (this.pc !== pc || pc.connectionState !== 'connected') return;
    const stats = await pc.getStats();
    const now = { at: performance.now(), lost: 0, received: 0, bytes: 0, freezes: 0, dropped: 0 };
    let video = null;
    let rtt = null;
    let jitter = null;
    let relayed = false;
    const mainLabel = this.side === 'pupil' ? 'board' : 'pupil_camera';
    const mainMid = this.pc
      .getTransceivers()
      .find((t) => this.labelOf(t) === mainLabel)?.mid;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp') {
        now.lost += s.packetsLost || 0;
        now.received += s.packetsReceived || 0;
        now.bytes += s.bytesReceived || 0;
        if (s.kind === 'video') now.freezes += s.freezeCount || 0;
        if (s.kind === 'video') now.dropped += s.framesDropped || 0;
        if (s.kind === 'video' && s.mid === mainMid) video = s;
        if (s.kind === 'audio' && s.jitter !== undefined) jitter = s.jitter * 1000;
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = stats.get(s.selectedCandidatePairId);
        if (pair) {
          if (pair.currentRoundTripTime !== undefined) rtt = pair.currentRoundTripTime * 1000;
          const local = stats.get(pair.localCandidateId);
          const remote = stats.get(pair.remoteCandidateId);
          relayed = local?.candidateType === 'relay' || remote?.candidateType === 'relay';
        }
      }
    });
    const last = this.lastStats;
    this.lastStats = now;
    if (!last) return;
    const seconds = (now.at - last.at) / 1000;
    const lost = Math.max(0, now.lost - last.lost);
    const received = Math.max(0, now.received - last.received);
    const loss = lost + received ? (100 * lost) / (lost + received) : 0;
    const freezes = Math.max(0, now.freezes - last.freezes);
    const dropped = Math.max(0, now.dropped - last.dropped);
    const expectVideo = this.side === 'pupil' ? !this.paused : this.remoteCamera === true;
    const fps = video && video.framesPerSecond !== undefined ? video.framesPerSecond : null;
    const reasons = [];
    let level = 'good';
    const worse = (to) => {
      if (to === 'poor' || level === 'good') level = to;
    };
    const flag = (to, reason) => {
      worse(to);
      reasons.push(reason);
    };
    if (loss >= 10) flag('poor', 'loss');
    else if (loss >= 2) flag('degraded', 'loss');
    if (rtt !== null && rtt >= 800) flag('poor', 'latency');
    else if (rtt !== null && rtt >= 300) flag('degraded', 'latency');
    // In the data-saving mode the board sends 5 frames a second on purpose.
    const [poorFps, degradedFps] = this.economy ? [2, 4] : [5, 15];
    // A frame rate somewhat low on a clean link is the sender's (a busy class station, a
    // camera in the dark): it says nothing of the link, so it degrades the level only with a
    // sign that frames go missing on the way (packets lost, frames dropped, a freeze). A
    // picture nearly stopped is poor whatever the cause.
    const framesGoMissing = lost > 0 || dropped > 0 || freezes > 0;
    if (expectVideo && (fps === null || fps < poorFps)) flag('poor', 'low_frame_rate');
    else if (expectVideo && fps < degradedFps && framesGoMissing) flag('degraded', 'low_frame_rate');
    if (freezes > 0) flag(freezes > 1 ? 'poor' : 'degraded', 'freezes');
    const sample = {
      type: 'quality',
      level,
      reasons,
      rtt_ms: rtt,
      loss_pct: Math.round(loss * 10) / 10,
      jitter_ms: jitter,
      fps,
      width: video?.frameWidth ?? null,
      height: video?.frameHeight ?? null,
      freezes,
      bitrate_kbps: seconds > 0 ? Math.max(0, ((now.bytes - last.bytes) * 8) / 1000 / seconds) : null,
      relayed,
    };
    this.emit('local-quality', sample);
    this.send(sample);
  }

  closePeer() {
    clearInterval(this.qualityTimer);
    clearTimeout(this.iceTimer);
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      this.pcId = null;
      this.remotePcId = null;
      // Closing ends every received track; the pages stop their own local tracks.
      pc.close();
      this.emit('connection', { state: 'closed' });
    }
  }
}
