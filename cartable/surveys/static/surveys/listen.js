// « Écouter la question »: each question of the pupil's questionnaire read aloud in French
// by the browser's own speech synthesis (nothing leaves the device). The buttons stay
// hidden where the browser cannot speak.
(function () {
  "use strict";
  const synth = window.speechSynthesis;
  if (!synth || typeof window.SpeechSynthesisUtterance !== "function") return;

  function frenchVoice() {
    const voices = synth.getVoices() || [];
    return (
      voices.find((v) => v.lang === "fr-FR") ||
      voices.find((v) => (v.lang || "").toLowerCase().startsWith("fr")) ||
      null
    );
  }

  document.querySelectorAll("button.listen[data-say]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      synth.cancel();
      const utterance = new SpeechSynthesisUtterance(button.dataset.say);
      utterance.lang = "fr-FR";
      utterance.rate = 0.9;
      const voice = frenchVoice();
      if (voice) utterance.voice = voice;
      synth.speak(utterance);
    });
  });
})();
