// The enrolment label's "print" button (no inline script: the pages get a strict CSP).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
