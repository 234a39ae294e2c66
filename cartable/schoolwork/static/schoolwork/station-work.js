// The class station's « Envoyer à l'élève » and the returned work, without leaving the
// lesson: a file, a photo from the tablet's camera, or a still of the board camera.
import { csrfToken, dueLabel, listWorks, tone } from './common.js';
import { WorkViewer } from './viewer.js';

const root = document.getElementById('work-station');
const status = document.getElementById('work-station-status');
const list = document.getElementById('work-station-list');
const openBox = document.getElementById('work-station-open');
const form = document.getElementById('work-send-form');
const fileInput = document.getElementById('work-file');
const photoInput = document.getElementById('work-photo');
let viewer = null;
let openId = null;

function say(message) {
  status.textContent = message;
}

async function send(blob, name, source = '') {
  const body = new FormData();
  body.append('file', blob, name);
  if (source) body.append('source', source);
  say('Envoi en cours…');
  const response = await fetch(root.dataset.handOut, {
    method: 'POST',
    body,
    headers: { 'X-CSRFToken': csrfToken(), Accept: 'application/json' },
    credentials: 'same-origin',
  }).catch(() => null);
  if (!response) {
    say("L'envoi n'a pas abouti : vérifiez la connexion et réessayez.");
    return;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    say(answer.error || "L'envoi est refusé : rien n'a été enregistré.");
    return;
  }
  say(`Envoyé à l'élève : ${answer.work.title}.`);
  form.reset();
  refresh();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const file = fileInput.files[0] || photoInput.files[0];
  if (!file) {
    say('Choisissez un document ou prenez une photo avant d’envoyer.');
    return;
  }
  send(file, file.name, fileInput.files[0] ? '' : 'photo');
});

document.getElementById('work-board').addEventListener('click', () => {
  const video = document.getElementById('board-preview');
  if (!video || !video.videoWidth) {
    say("La caméra du tableau n'est pas encore allumée.");
    return;
  }
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  canvas.toBlob((blob) => blob && send(blob, 'tableau.jpg', 'board'), 'image/jpeg', 0.9);
});

function open(work) {
  openId = work.id;
  openBox.hidden = false;
  viewer = new WorkViewer(openBox, { workId: String(work.id), side: 'teacher' });
  viewer.refresh().then(() => viewer.title.focus());
}

async function refresh() {
  const works = await listWorks(root.dataset.list);
  list.replaceChildren(
    ...works.map((work) => {
      const item = document.createElement('li');
      item.dataset.work = work.id;
      item.dataset.state = work.state;
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `Ouvrir « ${work.title} »`;
      button.addEventListener('click', () => open(work));
      const state = document.createElement('span');
      state.className = `work-state work-state-${work.state}`;
      state.textContent = `${work.state_label}${dueLabel(work)}`;
      item.append(button, ' ', state);
      return item;
    }),
  );
  return works;
}

document.addEventListener('cartable:work', async ({ detail }) => {
  const works = await refresh();
  const work = works.find((w) => w.id === detail.work);
  if (detail.change === 'returned' && work) {
    tone();
    say(`Travail rendu par l'élève : ${work.title}.`);
  }
  if (viewer && openId === detail.work) viewer.refresh();
});

refresh();
