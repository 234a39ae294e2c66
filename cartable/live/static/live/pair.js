// The QR code opens this page with the code in the fragment (never sent to the server in
// a URL, so it does not end up in access logs): fill it in for the person to confirm.
const match = window.location.hash.match(/code=(\d{6,16})/);
if (match) {
  const input = document.getElementById('code');
  if (input && !input.value) input.value = match[1];
  history.replaceState(null, '', window.location.pathname);
  document.querySelector('#pair-form button[type=submit]')?.focus();
}
