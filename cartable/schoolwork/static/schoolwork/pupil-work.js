// The pupil's « Mon travail »: what the class handed out and what is to do for later,
// also outside a lesson; a document handed out in a lesson opens at once, full screen.
import { dueLabel, listWorks } from './common.js';
import { WorkViewer } from './viewer.js';

const root = document.getElementById('work-pupil');
const status = document.getElementById('work-pupil-status');
const list = document.getElementById('work-pupil-list');
const empty = document.getElementById('work-pupil-empty');
const overlay = document.getElementById('work-overlay');
const body = document.getElementById('work-overlay-body');
const closeButton = document.getElementById('work-overlay-close');
const REFRESH_MS = 30_000;
let viewer = null;
let openId = null;
let opener = null;

function open(id) {
  opener = document.activeElement;
  openId = id;
  overlay.hidden = false;
  viewer = new WorkViewer(body, {
    workId: String(id),
    side: 'pupil',
    onDone: () => refresh(),
  });
  window.cartableWork = viewer; // a handle for diagnostics and tests; holds no secret
  viewer.refresh().then(() => viewer.title.focus());
}

function close() {
  overlay.hidden = true;
  openId = null;
  viewer = null;
  body.replaceChildren();
  opener?.focus?.();
}

closeButton.addEventListener('click', close);
overlay.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') close();
});

async function refresh() {
  const works = await listWorks(root.dataset.list);
  empty.hidden = works.length > 0;
  list.replaceChildren(
    ...works.map((work) => {
      const item = document.createElement('li');
      item.dataset.work = work.id;
      item.dataset.state = work.state;
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = work.title;
      button.addEventListener('click', () => open(work.id));
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
  if (detail.change === 'handed_out' && work) {
    status.textContent = `Nouveau document de la classe : ${work.title}.`;
    if (openId !== work.id) open(work.id);
  } else if (detail.change === 'corrected' && work) {
    status.textContent = `Ton travail est corrigé : ${work.title}.`;
    if (viewer && openId === work.id) viewer.refresh();
  }
});

refresh();
setInterval(refresh, REFRESH_MS);
