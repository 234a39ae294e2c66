// Shared by the class station's and the pupil's folder « Travail » hooks.

export function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

export async function listWorks(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!response.ok) return [];
  return (await response.json()).works;
}

export function dueLabel(work) {
  if (!work.due_on) return '';
  const day = new Date(`${work.due_on}T12:00:00`);
  return ` · à faire pour le ${day.toLocaleDateString('fr-FR', { weekday: 'long', day: 'numeric', month: 'long' })}`;
}

/** A short tone (Web Audio): no file, nothing recorded. */
export function tone() {
  try {
    const context = new AudioContext();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, context.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + 0.25);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + 0.25);
    oscillator.addEventListener('ended', () => context.close());
  } catch {
    // no sound on this device: the status line says it anyway
  }
}
