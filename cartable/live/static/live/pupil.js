// Pupil page: one tap to join, both class cameras, microphone and camera toggles.
// The camera starts off; the microphone starts on.

import { mountChat, wireConnection } from './lesson.js';
import { LiveLink } from './link.js';
import { PupilSteer } from './steer-pupil.js';
import { announce, attach, liveUrl, setToggle, stopAll } from './ui.js';

const root = document.getElementById('pupil');
const loanId = root.dataset.loan;
const joinButton = document.getElementById('join');
const leaveButton = document.getElementById('leave');
const stage = document.getElementById('stage');
const waiting = document.getElementById('waiting');
const micButton = document.getElementById('mic');
const cameraButton = document.getElementById('camera');
const swapButton = document.getElementById('swap');
const selfView = document.getElementById('self-view');
const classAudio = document.getElementById('class-audio');
const handButton = document.getElementById('hand-button');
const awayButton = document.getElementById('away');
const economyButton = document.getElementById('economy');
const pausedScreen = document.getElementById('paused-screen');
const className = document.querySelector('#pupil').dataset.className || 'La classe';
const views = {
  board: document.getElementById('board-video'),
  class: document.getElementById('class-video'),
};

/** @type {LiveLink|null} */
let link = null;
let microphone = null;
let camera = null;
let micOn = true;
// The microphone is being opened (join): the button already works, and its choice holds
// when the track comes.
let micPending = false;
let live = false;
let classPresent = false;
let large = 'board';
let handRaised = false;
let away = false;
let economy = false;
let paused = false;

const steer = new PupilSteer({ root, announce });
window.cartableSteer = steer; // a handle for diagnostics and tests; holds no secret

const chat = mountChat({
  root: document.getElementById('chat'),
  getLink: () => link,
  me: 'Moi',
  other: () => className,
});

function render() {
  const joined = Boolean(link);
  joinButton.hidden = joined;
  leaveButton.hidden = !joined;
  stage.hidden = !joined;
  const connected = joined && live && classPresent;
  waiting.hidden = !joined || connected;
  root.dataset.state = !joined ? 'out' : connected ? 'live' : 'waiting';
  const micUsable = Boolean(microphone) || micPending;
  setToggle(micButton, micOn && micUsable, micOn && micUsable ? 'activé' : 'coupé');
  setToggle(cameraButton, Boolean(camera), camera ? 'activée' : 'coupée');
  selfView.hidden = !camera;
  handButton.setAttribute('aria-pressed', String(handRaised));
  handButton.textContent = handRaised ? 'Baisser la main' : 'Lever la main';
  awayButton.setAttribute('aria-pressed', String(away));
  awayButton.textContent = away ? 'Je suis de retour' : 'Je fais une pause';
  economyButton.setAttribute('aria-pressed', String(economy));
  pausedScreen.hidden = !paused || !connected;
  root.dataset.paused = String(paused);
  root.dataset.hand = handRaised ? 'raised' : 'down';
  for (const [name, video] of Object.entries(views)) {
    video.closest('figure').classList.toggle('large', name === large);
    video.closest('figure').classList.toggle('small', name !== large);
  }
  const other = large === 'board' ? 'la caméra de la classe' : 'la caméra du tableau';
  swapButton.setAttribute('aria-label', `Afficher ${other} en grand`);
}

function announceMedia() {
  // Only while the class is there: the server relays nothing outside a live session.
  if (!link || !live || !classPresent) return;
  link.announceMedia({ microphone: micOn && Boolean(microphone), camera: Boolean(camera) });
}

/** The pupil's microphone, or null (refused, none): never in the way of the join. */
async function openMicrophone() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    return stream.getAudioTracks()[0];
  } catch {
    return null;
  }
}

async function join() {
  joinButton.disabled = true;
  // The microphone opens while the link connects, not before: the class's picture need
  // not wait for it. It goes on the audio transceiver when it comes (replaceTrack, no new
  // negotiation: the answer already says the pupil sends audio).
  const current = new LiveLink({ url: liveUrl(loanId, 'pupil'), side: 'pupil' });
  link = current;
  window.cartableLink = current; // a handle for diagnostics and tests; holds no secret
  current.addEventListener('work', ({ detail }) =>
    document.dispatchEvent(new CustomEvent('cartable:work', { detail })),
  ); // the folder « Travail » (cartable/schoolwork) hears the live link
  wire(current);
  announce('Connexion à la classe…');
  micOn = true;
  micPending = true;
  openMicrophone().then(async (track) => {
    if (link !== current) {
      stopAll([track]); // left (or could not join) meanwhile
      if (!link) {
        micPending = false;
        render();
      }
      return;
    }
    micPending = false;
    microphone = track;
    if (track) track.enabled = micOn; // the pupil may have muted it while it opened
    if (!track) announce('Le micro n’est pas disponible. Tu peux quand même suivre la classe.');
    await current.setMicrophone(track);
    announceMedia();
    render();
  });
  try {
    await current.connect();
    if (!classPresent) announce(live ? 'La classe arrive…' : 'En attente de la classe…');
    render();
    // The join button disappears: keep the keyboard focus in the lesson.
    stage.focus();
  } catch {
    if (link === current) {
      link = null;
      stopAll([microphone]);
      microphone = null;
    }
    announce('Impossible de rejoindre la classe. Vérifie la connexion ou demande de l’aide.');
  } finally {
    joinButton.disabled = false;
    render();
  }
}

function wire(current) {
  chat.wire(current);
  steer.wire(current);
  wireConnection(current, {
    qualityElement: document.getElementById('class-quality'),
    where: 'dans la classe',
  });
  current.addEventListener('floor', () => {
    handRaised = false;
    announce('L’enseignant te donne la parole !');
    render();
  });
  current.addEventListener('pause', ({ detail }) => {
    paused = detail.paused;
    announce(paused ? 'La classe a fait une pause.' : 'La classe est de retour.');
    render();
  });
  current.addEventListener('session', ({ detail }) => {
    const was = live;
    live = detail.live;
    if (!live) clearViews();
    if (detail.reason) {
      announce(
        detail.reason === 'loan_ended'
          ? 'La séance est terminée : le prêt du cartable a pris fin.'
          : 'La séance est terminée.'
      );
      leave();
      return;
    }
    // A reconnection repeats the session's state: announce only a change.
    if (was !== live) announce(live && classPresent ? 'Tu es en classe !' : 'En attente de la classe…');
    render();
    announceMedia();
  });
  current.addEventListener('peer', ({ detail }) => {
    const was = classPresent;
    classPresent = detail.present;
    if (!detail.present && detail.reason === 'lost') {
      // Only the class's signalling is cut: its picture and sound may well go on.
      announce('La connexion de la classe est coupée : reconnexion…');
    } else {
      if (!detail.present) clearViews();
      if (was !== classPresent) {
        announce(live && classPresent ? 'Tu es en classe !' : 'En attente de la classe…');
      }
    }
    render();
    if (detail.present) announceMedia();
  });
  current.addEventListener('track', ({ detail }) => {
    if (detail.label === 'board' || detail.label === 'class') {
      attach(views[detail.label], detail.track);
    } else if (detail.label === 'audio') {
      attach(classAudio, detail.track);
    }
  });
  current.addEventListener('connection', ({ detail }) => {
    if (detail.state === 'connected') announceMedia();
  });
  current.addEventListener('protocol-error', ({ detail }) => {
    if (detail.code === 'revoked') announce('Cette tablette n’est plus reliée à la classe.');
    if (detail.code === 'replaced') announce('La classe est ouverte sur un autre appareil.');
  });
  current.addEventListener('closed', () => {
    if (link === current) {
      link = null;
      stopMedia();
      render();
    }
  });
}

function clearViews() {
  attach(views.board, null);
  attach(views.class, null);
  attach(classAudio, null);
}

function stopMedia() {
  stopAll([microphone, camera]);
  microphone = null;
  camera = null;
  attach(selfView, null);
  clearViews();
}

function resetLesson() {
  handRaised = false;
  away = false;
  economy = false;
  paused = false;
  chat.clear(); // messages live only as long as the lesson
  steer.clear(); // and so do the stills of the board
}

function leave() {
  resetLesson();
  const current = link;
  link = null;
  current?.leave();
  stopMedia();
  live = false;
  classPresent = false;
  render();
}

joinButton.addEventListener('click', join);
leaveButton.addEventListener('click', () => {
  leave();
  joinButton.focus();
  announce('Tu as quitté la classe. Appuie sur « Rejoindre la classe » pour revenir.');
});

micButton.addEventListener('click', () => {
  if (!microphone && !micPending) return;
  micOn = !micOn;
  if (microphone) microphone.enabled = micOn;
  announce(micOn ? 'Micro activé.' : 'Micro coupé.');
  announceMedia();
  render();
});

let cameraBusy = false;
cameraButton.addEventListener('click', async () => {
  // A busy flag, not `disabled`: disabling the focused button would drop the focus.
  if (cameraBusy) return;
  cameraBusy = true;
  cameraButton.setAttribute('aria-busy', 'true');
  try {
    if (camera) {
      const old = camera;
      camera = null;
      await link?.setCamera(null);
      old.stop(); // the camera light goes off: nothing is captured any more
      attach(selfView, null);
      announce('Caméra coupée. La classe ne te voit plus.');
    } else {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } },
      });
      camera = stream.getVideoTracks()[0];
      attach(selfView, camera);
      await link?.setCamera(camera);
      announce('Caméra activée. La classe te voit.');
    }
    announceMedia();
  } catch {
    announce('La caméra n’est pas disponible.');
  } finally {
    cameraBusy = false;
    cameraButton.removeAttribute('aria-busy');
    render();
  }
});

handButton.addEventListener('click', () => {
  if (!link?.raiseHand(!handRaised)) return;
  handRaised = !handRaised;
  announce(handRaised ? 'Tu lèves la main.' : 'Tu as baissé la main.');
  render();
});

const CUE_SAID = {
  cant_hear: 'La classe sait que tu n’entends pas.',
  cant_see: 'La classe sait que tu ne vois pas.',
  slower: 'La classe sait que tu voudrais aller plus lentement.',
};
for (const button of document.querySelectorAll('[data-cue]')) {
  button.addEventListener('click', () => {
    if (link?.cue(button.dataset.cue)) announce(CUE_SAID[button.dataset.cue]);
  });
}

awayButton.addEventListener('click', () => {
  if (!link?.cue(away ? 'back' : 'away')) return;
  away = !away;
  announce(away ? 'La classe sait que tu fais une pause.' : 'Bon retour !');
  render();
});

economyButton.addEventListener('click', () => {
  if (!link?.requestEconomy(!economy)) return;
  economy = !economy;
  announce(
    economy
      ? 'Mode économie : seulement le tableau, moins d’images mais plus nettes.'
      : 'Mode économie arrêté.',
  );
  render();
});

swapButton.addEventListener('click', () => {
  large = large === 'board' ? 'class' : 'board';
  announce(large === 'board' ? 'Le tableau est en grand.' : 'La classe est en grand.');
  render();
});

render();

// Closing or reloading the page is leaving on purpose: the other side stops waiting for
// this page's media at once rather than after the connection times out.
window.addEventListener('pagehide', () => link?.leave());
