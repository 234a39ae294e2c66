// Small page helpers shared by the live pages.

/** Announce a state change in the page's status region (read by screen readers). */
export function announce(text) {
  const region = document.getElementById('live-status');
  if (region) region.textContent = text;
}

/** The WebSocket URL of a loan's live link, on this page's own host. */
export function liveUrl(loanId, side) {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/ws/live/${loanId}/${side}/`;
}

/** Show a track in a video or audio element. */
export function attach(element, track) {
  element.srcObject = track ? new MediaStream([track]) : null;
  if (track) element.play().catch(() => {});
}

/** Stop every track of a list (null entries allowed). */
export function stopAll(tracks) {
  for (const track of tracks) if (track) track.stop();
}

/** A toggle button's pressed state and its visible text. */
export function setToggle(button, pressed, text) {
  button.setAttribute('aria-pressed', String(pressed));
  button.querySelector('.state').textContent = text;
}
