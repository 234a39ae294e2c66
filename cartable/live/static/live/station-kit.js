// Class station in kit mode: the kit's agent sends the cameras and the sound; this tablet
// starts and ends the lesson, pauses it, gives the floor, masks a zone, chats, and shows
// the kit's state (docs/protocol.md, "Kit mode"). It captures no camera.

import { mountChat, wireConnection } from './lesson.js';
import { LiveLink } from './link.js';
import { announce, liveUrl } from './ui.js';

const root = document.getElementById('station');
const loanId = root.dataset.loan;
const pupilName = root.dataset.pupil;
const $ = (id) => document.getElementById(id);
const startButton = $('start');
const endButton = $('end');
const pauseButton = $('pause');
const CAMERA = { ok: 'transmet', missing: 'débranchée : image noire', off: 'éteinte', withheld: 'retenue (floutage impossible)' };
const NETWORK = { wifi: 'Wi-Fi', '4g': '4G', wired: 'filaire' };
const BLUR = { off: 'non demandé', on: 'actif', unavailable: 'impossible : image de la classe retenue' };
const ZONES = {
  left: { x: 0, y: 0, w: 1 / 3, h: 1 },
  middle: { x: 1 / 3, y: 0, w: 1 / 3, h: 1 },
  right: { x: 2 / 3, y: 0, w: 1 / 3, h: 1 },
  bottom: { x: 0, y: 0.6, w: 1, h: 0.4 },
};

const link = new LiveLink({ url: liveUrl(loanId, 'class'), side: 'class' });
window.cartableLink = link; // a handle for diagnostics and tests; holds no secret
let live = false;
let kitOnline = false;

function render() {
  startButton.hidden = live;
  endButton.hidden = !live;
  pauseButton.hidden = !live;
  startButton.disabled = !kitOnline;
  root.dataset.state = live ? 'live' : 'idle';
}

startButton.addEventListener('click', () => {
  link.start();
  announce('Démarrage de la séance…');
});
endButton.addEventListener('click', () => link.end());
pauseButton.addEventListener('click', async () => {
  const paused = pauseButton.getAttribute('aria-pressed') !== 'true';
  await link.setPaused(paused);
  pauseButton.setAttribute('aria-pressed', String(paused));
  $('paused-note').hidden = !paused;
  announce(paused ? 'Pause confidentialité : rien n’est transmis.' : 'Fin de la pause : la classe est de nouveau transmise.');
});
$('give-floor').addEventListener('click', () => {
  link.giveFloor();
  $('hand').hidden = true;
  announce(`Vous avez donné la parole à ${pupilName}.`);
});
$('mask-apply').addEventListener('click', () => {
  const zone = ZONES[$('mask-zone').value] || null;
  link.send({ type: 'kit_mask', zone });
  announce(zone ? 'Masque appliqué à l’image de la classe.' : 'Masque retiré.');
});

const chat = mountChat({ root: $('chat'), getLink: () => link, me: 'Moi', other: () => pupilName });
chat.wire(link);
wireConnection(link, { qualityElement: $('peer-quality'), where: 'chez l’élève' });

link.addEventListener('kit_presence', ({ detail }) => {
  kitOnline = detail.online;
  $('kit-online').textContent = detail.online
    ? 'Boîtier connecté.'
    : 'Boîtier hors ligne : il se reconnecte tout seul. Sans lui, rechargez la page pour utiliser les caméras de cette tablette.';
  announce(detail.online ? 'Le boîtier de la classe est connecté.' : 'Le boîtier de la classe est hors ligne.');
  render();
});
link.addEventListener('kit_state', ({ detail }) => {
  kitOnline = true;
  $('kit-online').textContent = 'Boîtier connecté.';
  $('kit-board').textContent = CAMERA[detail.cameras.board];
  $('kit-class').textContent = CAMERA[detail.cameras.class];
  $('kit-microphone').textContent = detail.microphone ? 'ouvert' : 'coupé';
  $('kit-network').textContent = NETWORK[detail.network] || detail.network;
  $('kit-blur').textContent = BLUR[detail.blur];
  $('kit-on-air').hidden = !detail.on_air;
  root.dataset.onAir = String(detail.on_air);
  const message = $('kit-message');
  message.hidden = !detail.message;
  message.textContent = detail.message || '';
  render();
});
link.addEventListener('hand', ({ detail }) => {
  $('hand').hidden = !detail.raised;
  announce(detail.raised ? `${pupilName} lève la main.` : `${pupilName} a baissé la main.`);
});
link.addEventListener('cue', ({ detail }) => {
  const banner = $('pupil-cue');
  const words = { cant_hear: 'n’entend pas', cant_see: 'ne voit pas', slower: 'demande d’aller plus lentement', away: 'fait une pause', back: 'est de retour' };
  banner.textContent = `${pupilName} ${words[detail.cue]}.`;
  banner.hidden = false;
  announce(banner.textContent);
});
link.addEventListener('economy', ({ detail }) => {
  $('pupil-economy').hidden = !detail.on;
});
link.addEventListener('media', ({ detail }) => {
  $('pupil-media').textContent = `${pupilName} : caméra ${detail.camera ? 'allumée' : 'coupée'}, micro ${detail.microphone ? 'ouvert' : 'coupé'} (l’image et la voix de l’élève passent par le boîtier).`;
});
link.addEventListener('session', ({ detail }) => {
  live = detail.live;
  if (!live) {
    pauseButton.setAttribute('aria-pressed', 'false');
    $('paused-note').hidden = true;
  }
  announce(live ? 'Séance démarrée.' : 'Séance terminée.');
  render();
});
link.addEventListener('peer', ({ detail }) => {
  $('pupil-state').textContent = detail.present
    ? `${pupilName} est connecté·e.`
    : `${pupilName} n'est pas connecté·e.`;
});
link.addEventListener('protocol-error', ({ detail }) => {
  if (detail.code === 'consent_missing') {
    announce(`La séance ne peut pas démarrer : il manque ${(detail.missing || []).join(', ')}.`);
  } else if (detail.code === 'loan_inactive') {
    announce('Cette mise à disposition n’est pas en cours.');
  }
});
render();
link.connect().catch(() => announce('Accès refusé à cette séance.'));
window.addEventListener('pagehide', () => link?.leave());
