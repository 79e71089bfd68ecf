// The receipt page (/j/{code}/mijn): "what became of my notes", to open again after the
// session (as long as the workshop is kept) and to print. The participant's token never
// travels in a URL: it is read from this device's localStorage (where the phone page
// keeps it) and sent in the socket's hello, as the phone does; the page is rendered here,
// from the welcome. Without a token on this device the page says so and joins nobody.
import { $, setText } from "./dom.js";
import { t } from "./i18n.js";
import { OP } from "./protocol.js";
import { receiptItems, receiptRows, rememberOwn } from "./receipt.js";
import { redraw } from "./results.js";
import { SignUps } from "./signup.js";
import { bindStatus, onFrame, showNotice, startScreen, untitled } from "./ui.js";

const { conn } = startScreen("participant");
const signUps = new SignUps(conn, () => render());

function noToken() {
  $("no-token").hidden = false;
  $("receipt").hidden = true;
  $("helpers").hidden = true;
}

const render = onFrame(() => {
  const state = conn.state;
  if (!state || !conn.token) return;
  setText($("ws-title"), `${t("receipt.heading")} · ${state.workshop.title}`);
  const rows = receiptRows(state, rememberOwn(state), untitled);
  $("receipt").hidden = false;
  $("receipt-empty").hidden = rows.length > 0;
  redraw($("receipt-list"), rows, () => receiptItems(rows,
    (id) => state.prompts.find((p) => p.id === id)?.text ?? ""));
  const helping = ["results", "closed"].includes(state.workshop.phase);
  $("helpers").hidden = !helping;
  if (helping) signUps.draw($("helper-items"), state, untitled);
});

// Never join as someone new from here: a device without a token (or whose token the
// server no longer knows) only gets the explanation.
const connect = conn.connect.bind(conn);
conn.connect = () => {
  if (!conn.token) {
    conn.stop();
    noToken();
    return;
  }
  connect();
};

conn.on("state", render).on("outbox", render);
conn.on("ack", (entry) => {
  if (entry.op === OP.SIGN_UP) showNotice("");
  render();
});
conn.on("nack", (_entry, error) => {
  showNotice(error.message || t("error.generic"));
  render();
});
conn.on("fatal", () => {
  showNotice(t("receipt.gone"));
});
$("print").addEventListener("click", () => window.print());
bindStatus(conn);
conn.start();
