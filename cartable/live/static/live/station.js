// Class station page: pick cameras and microphone, start and end the session, see and
// hear the pupil.

import { mountChat, wireConnection } from './lesson.js';
import { LiveLink } from './link.js';
import { StationSteer } from './steer-station.js';
import { announce, attach, liveUrl, stopAll } from './ui.js';

const root = document.getElementById('station');
const loanId = root.dataset.loan;
const storageKey = 'cartable.station.devices';
const selects = {
  board: document.getElementById('board-camera'),
  class: document.getElementById('class-camera'),
  audio: document.getElementById('microphone'),
};
const startButton = document.getElementById('start');
const endButton = document.getElementById('end');
const pupilState = document.getElementById('pupil-state');
const pupilVideo = document.getElementById('pupil-video');
const pupilCameraOff = document.getElementById('pupil-camera-off');
const pupilAudio = document.getElementById('pupil-audio');
const previews = {
  board: document.getElementById('board-preview'),
  class: document.getElementById('class-preview'),
};

const pauseButton = document.getElementById('pause');
const pausedNote = document.getElementById('paused-note');
const hand = document.getElementById('hand');
const cueBanner = document.getElementById('pupil-cue');
const awayBanner = document.getElementById('pupil-away');
const economyNote = document.getElementById('pupil-economy');
const CUES = {
  cant_hear: 'n’entend pas',
  cant_see: 'ne voit pas',
  slower: 'demande d’aller plus lentement',
};

// The board camera is sent at 1280x720; its stills are taken at the camera's full photo
// resolution (ImageCapture.takePhoto), without opening it larger for the whole lesson.
// The class camera is opened at its highest resolution, up to 1920x1080 (a crop of a
// larger picture at 30 frames a second costs a tablet too much), for the crop of the
// pupil's view; what is sent of it is 1280x720 too.
const BOARD_CAPTURE = { width: { ideal: 1280 }, height: { ideal: 720 } };
const CLASS_CAPTURE = { width: { ideal: 1920 }, height: { ideal: 1080 }, frameRate: { ideal: 30 } };
const SENT = { width: { max: 1280 }, height: { max: 720 } };

const link = new LiveLink({ url: liveUrl(loanId, 'class'), side: 'class' });
window.cartableLink = link; // a handle for diagnostics and tests; holds no secret
link.addEventListener('work', ({ detail }) =>
  document.dispatchEvent(new CustomEvent('cartable:work', { detail })),
); // the folder « Travail » (cartable/schoolwork) hears the live link
/** @type {{board: MediaStreamTrack|null, class: MediaStreamTrack|null, audio: MediaStreamTrack|null}} */
let local = { board: null, class: null, audio: null };
/** The cameras at full resolution, never sent as they are. @type {MediaStreamTrack[]} */
let sources = [];
let pupilName = root.dataset.pupil;
const steer = new StationSteer({ link, root, announce, pupilName: () => pupilName });
window.cartableSteer = steer; // a handle for diagnostics and tests; holds no secret
let pupilPresent = false;
let live = false;

function savedChoice() {
  try {
    return JSON.parse(localStorage.getItem(storageKey) || '{}');
  } catch {
    return {};
  }
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const saved = savedChoice();
  const fill = (select, kind, fallbackIndex) => {
    const options = devices.filter((d) => d.kind === kind);
    select.replaceChildren(
      ...options.map((device, index) => {
        const option = document.createElement('option');
        option.value = device.deviceId;
        option.textContent =
          device.label || (kind === 'audioinput' ? `Micro ${index + 1}` : `Caméra ${index + 1}`);
        return option;
      }),
    );
    const wanted = saved[select.id];
    if (wanted && options.some((d) => d.deviceId === wanted)) select.value = wanted;
    else if (options[fallbackIndex]) select.value = options[fallbackIndex].deviceId;
  };
  fill(selects.board, 'videoinput', 0);
  fill(selects.class, 'videoinput', 1);
  fill(selects.audio, 'audioinput', 0);
}

function saveChoice() {
  const choice = {};
  for (const select of Object.values(selects)) choice[select.id] = select.value;
  localStorage.setItem(storageKey, JSON.stringify(choice));
}

async function camera(deviceId, size) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: deviceId ? { deviceId: { exact: deviceId }, ...size } : size,
  });
  const [track] = stream.getVideoTracks();
  return track;
}

/** A copy of a camera's track, scaled down by the browser (the camera is not touched). */
async function scaled(track, size) {
  const copy = track.clone();
  try {
    await copy.applyConstraints(size);
  } catch (err) {
    console.warn('scaled copy', err);
  }
  return copy;
}

async function acquireMedia() {
  const boardId = selects.board.value;
  const classId = selects.class.value;
  let board;
  let classSource;
  if (classId && classId !== boardId) {
    board = await camera(boardId, BOARD_CAPTURE);
    classSource = await camera(classId, CLASS_CAPTURE);
  } else {
    // A single camera (a laptop trying the demo): both views share it, opened for the class.
    classSource = await camera(boardId, CLASS_CAPTURE);
    board = await scaled(classSource, SENT);
  }
  sources.push(classSource);
  board.contentHint = 'detail'; // text on the board must stay sharp
  const klass = await steer.attach({ classSource, board });
  const audioStream = await navigator.mediaDevices.getUserMedia({
    audio: selects.audio.value
      ? { deviceId: { exact: selects.audio.value }, echoCancellation: true, noiseSuppression: true }
      : true,
  });
  return { board, class: klass, audio: audioStream.getAudioTracks()[0] };
}

function releaseMedia() {
  steer.detach();
  stopAll(Object.values(local));
  stopAll(sources);
  sources = [];
  local = { board: null, class: null, audio: null };
  link.clearLocal();
  attach(previews.board, null);
  attach(previews.class, null);
}

function render() {
  startButton.hidden = live && Boolean(local.board);
  pauseButton.hidden = !live || !local.board;
  pauseButton.setAttribute('aria-pressed', String(link.paused));
  pauseButton.textContent = link.paused ? 'Reprendre' : 'Pause confidentialité';
  pausedNote.hidden = !link.paused || !live;
  root.dataset.paused = String(link.paused);
  startButton.textContent = live ? 'Reprendre la séance' : 'Démarrer la séance';
  endButton.hidden = !live;
  for (const select of Object.values(selects)) select.disabled = live && Boolean(local.board);
  root.dataset.state = live ? 'live' : 'idle';
  if (!pupilPresent) {
    pupilState.textContent = `${pupilName} n'est pas connecté·e.`;
    root.dataset.pupil = 'absent';
  } else if (!live) {
    pupilState.textContent = `${pupilName} attend le début de la séance.`;
    root.dataset.pupil = 'waiting';
  } else {
    pupilState.textContent = `${pupilName} est connecté·e.`;
    root.dataset.pupil = 'connected';
  }
}

startButton.addEventListener('click', async () => {
  startButton.disabled = true;
  try {
    saveChoice();
    if (!local.board) {
      announce('Ouverture des caméras…');
      local = await acquireMedia();
      attach(previews.board, local.board);
      attach(previews.class, local.class);
      await listDevices(); // labels are known once the browser has granted access
      for (const label of ['board', 'class', 'audio']) await link.setLocalTrack(label, local[label]);
    }
    link.start();
    // The start button disappears: keep the keyboard focus on the pupil's state.
    pupilState.focus();
  } catch (err) {
    releaseMedia();
    announce(`Impossible d'ouvrir les caméras ou le micro : ${err.message}`);
  } finally {
    startButton.disabled = false;
    render();
  }
});

endButton.addEventListener('click', () => {
  link.end();
});

pauseButton.addEventListener('click', async () => {
  await link.setPaused(!link.paused);
  announce(
    link.paused
      ? 'Pause confidentialité : rien n’est transmis à l’élève.'
      : 'Fin de la pause : l’élève voit et entend à nouveau la classe.',
  );
  render();
});

document.getElementById('give-floor').addEventListener('click', () => {
  link.giveFloor();
  showHand(false);
  announce(`Vous avez donné la parole à ${pupilName}.`);
  pupilState.focus();
});

function showHand(raised) {
  hand.hidden = !raised;
  root.dataset.hand = raised ? 'raised' : 'down';
}

/** A short, soft tone when the hand goes up: heard across the room, made on the spot. */
function chime() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.6);
    tone.onended = () => audio.close();
  } catch {
    // No sound available: the banner is still there.
  }
}

const chat = mountChat({
  root: document.getElementById('chat'),
  getLink: () => link,
  me: 'Classe',
  other: () => pupilName,
});
chat.wire(link);
wireConnection(link, {
  qualityElement: document.getElementById('peer-quality'),
  where: 'chez l’élève',
});

link.addEventListener('hand', ({ detail }) => {
  showHand(detail.raised);
  if (detail.raised) {
    chime();
    announce(`${pupilName} lève la main.`);
  } else {
    announce(`${pupilName} a baissé la main.`);
  }
});
link.addEventListener('cue', ({ detail }) => {
  if (detail.cue === 'away') {
    awayBanner.hidden = false;
    announce(`${pupilName} fait une pause.`);
  } else if (detail.cue === 'back') {
    awayBanner.hidden = true;
    announce(`${pupilName} est de retour.`);
  } else {
    cueBanner.textContent = `${pupilName} ${CUES[detail.cue]}.`;
    cueBanner.hidden = false;
    announce(cueBanner.textContent);
    clearTimeout(cueBanner.timer);
    cueBanner.timer = setTimeout(() => (cueBanner.hidden = true), 15000);
  }
});
link.addEventListener('economy', ({ detail }) => {
  economyNote.hidden = !detail.on;
  announce(detail.on ? 'L’élève passe en mode économie.' : 'L’élève quitte le mode économie.');
});

let welcomed = false;
link.addEventListener('welcome', ({ detail }) => {
  pupilName = detail.peerName || pupilName;
  // After a reconnection, « Connexion rétablie » is the news, not the session's state.
  if (!welcomed) {
    announce(detail.session ? 'Une séance est en cours.' : 'Prêt. La séance n’a pas commencé.');
  }
  welcomed = true;
});
link.addEventListener('session', ({ detail }) => {
  const wasLive = live;
  const endHadFocus = document.activeElement === endButton;
  live = detail.live;
  if (wasLive && !live) {
    releaseMedia();
    showHand(false);
    awayBanner.hidden = true;
    cueBanner.hidden = true;
    economyNote.hidden = true;
    chat.clear(); // messages live only as long as the lesson
    steer.reset();
    attach(pupilVideo, null);
    attach(pupilAudio, null);
    announce(
      detail.reason === 'loan_ended'
        ? 'Séance terminée : la mise à disposition du cartable a pris fin.'
        : 'Séance terminée.'
    );
  } else if (live && !wasLive) {
    announce('Séance démarrée.');
  }
  render();
  // The end button disappears: give the focus to the button that starts a new session.
  if (endHadFocus) startButton.focus();
});
link.addEventListener('peer', ({ detail }) => {
  const wasPresent = pupilPresent;
  pupilPresent = detail.present;
  if (!detail.present && detail.reason === 'lost') {
    announce(`La connexion de ${pupilName} est coupée : reconnexion…`);
  } else if (!detail.present) {
    showPupilCamera(false);
    showHand(false);
    announce(`${pupilName} s'est déconnecté·e.`);
  } else if (!wasPresent) {
    announce(live ? `${pupilName} a rejoint la séance.` : `${pupilName} est en attente.`);
  }
  render();
});
link.addEventListener('track', ({ detail }) => {
  if (detail.label === 'pupil_camera') attach(pupilVideo, detail.track);
  if (detail.label === 'audio') attach(pupilAudio, detail.track);
});
link.addEventListener('media', ({ detail }) => {
  showPupilCamera(detail.camera);
  document.getElementById('pupil-mic').textContent = detail.microphone
    ? 'Micro de l’élève : activé'
    : 'Micro de l’élève : coupé';
});
link.addEventListener('protocol-error', ({ detail }) => {
  if (detail.code === 'replaced') announce('Ce poste a été ouvert ailleurs.');
  else if (detail.code === 'loan_inactive') announce('Cette mise à disposition n’est pas en cours.');
  else if (detail.code === 'consent_missing') {
    // No session without the authorisations: the cameras are not needed yet.
    releaseMedia();
    render();
    announce(`La séance ne peut pas démarrer : il manque ${(detail.missing || []).join(', ')}.`);
  }
});
link.addEventListener('closed', ({ detail }) => {
  pupilPresent = false;
  render();
  if (detail.code !== 4409) announce('Connexion au serveur perdue. Rechargez la page.');
});

function showPupilCamera(on) {
  pupilVideo.hidden = !on;
  pupilCameraOff.hidden = on;
  root.dataset.pupilCamera = on ? 'on' : 'off';
}

await listDevices().catch(() => {});
render();
link.connect().catch(() => announce('Accès refusé à cette séance.'));

// Closing or reloading the page is leaving on purpose: the other side stops waiting for
// this page's media at once rather than after the connection times out.
window.addEventListener('pagehide', () => link?.leave());
