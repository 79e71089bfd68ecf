// The report's one interaction: the print button (no inline handlers under our CSP).
const button = document.getElementById("print");
if (button) button.addEventListener("click", () => window.print());
