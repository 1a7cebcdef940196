// The voice console: type a command or hold to talk; shows transcript, intent, actions, timings.
import { api, store } from "../api.js";
import { errorText, h, icon } from "../ui.js";

export function voicePage() {
  const cfg = store.config || {};
  const log = h("div", { class: "voice-log", "aria-live": "polite" });
  const input = h("input", { name: "text", placeholder: "Try “turn on the kitchen light”", "aria-label": "Command", maxlength: 500, autocomplete: "off" });
  const form = h("form", { class: "voice-form", onsubmit: async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const entry = addEntry(text);
    try { showResult(entry, await api("POST", "/api/voice/text", { text })); }
    catch (err) { showError(entry, err); }
  } }, input, h("button", { class: "btn btn-primary", type: "submit" }, "Send"));

  function addEntry(text) {
    const entry = h("div", { class: "exchange" }, h("div", { class: "bubble you" }, text), h("div", { class: "bubble hub pending" }, "…"));
    log.prepend(entry);
    return entry;
  }
  function showError(entry, err) { entry.lastChild.replaceWith(h("div", { class: "bubble hub error" }, errorText(err))); }
  function showResult(entry, r) {
    if (r.transcript && entry.firstChild.textContent === "🎙") entry.firstChild.textContent = r.transcript;
    const t = r.timings || {};
    const actions = (r.actions || []).map((a) => h("li", {}, a.domain && !String(a.service).includes(".") ? `${a.domain}.${a.service}` : a.service, " → ", (a.entity_ids || a.target?.entity_id || []).join(", ") || JSON.stringify(a.target || {})));
    entry.lastChild.replaceWith(h("div", { class: `bubble hub${r.error ? " error" : ""}`, dataset: { intent: r.intent || "" } },
      h("div", { class: "reply" }, r.reply || r.error || "(no reply)"),
      h("dl", { class: "details" },
        h("dt", {}, "Heard"), h("dd", {}, r.transcript ?? "–"),
        h("dt", {}, "Intent"), h("dd", { class: "intent" }, r.intent || "none",
          Object.keys(r.slots || {}).length ? h("span", { class: "muted" }, " ", JSON.stringify(r.slots)) : null),
        h("dt", {}, "Actions"), h("dd", {}, actions.length ? h("ul", {}, actions) : "none"),
        h("dt", {}, "Timings"), h("dd", { class: "muted" }, Object.entries(t).map(([k, v]) => `${k} ${k === "audio" ? v + " s" : Math.round(v * 1000) + " ms"}`).join(" · ") || "–"))));
  }

  // Hold to talk: microphone at 16 kHz, 16-bit PCM over a websocket to the voice pipeline.
  let session = null;
  async function startTalking() {
    if (session) return;
    const entry = addEntry("🎙");
    session = { entry };
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
      const ctx = new AudioContext({ sampleRate: 16000 });
      await ctx.audioWorklet.addModule("/static/mic-worklet.js");
      const node = new AudioWorkletNode(ctx, "pcm-chunker");
      const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/voice/stream`);
      ws.binaryType = "arraybuffer";
      Object.assign(session, { stream, ctx, node, ws });
      node.port.onmessage = (ev) => { if (ws.readyState === WebSocket.OPEN) ws.send(ev.data); };
      ctx.createMediaStreamSource(stream).connect(node);
      ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        if (msg.type === "result") { showResult(entry, msg.result); stopTalking(false); }
        if (msg.type === "error") { showError(entry, new Error(msg.message)); stopTalking(false); }
      };
      ws.onclose = (ev) => { if (ev.code !== 1000 && entry.lastChild.classList.contains("pending")) showError(entry, new Error("voice stream closed")); };
      talk.classList.add("on");
    } catch (err) { showError(entry, err); stopTalking(false); }
  }
  function stopTalking(sendEnd = true) {
    const s = session;
    if (!s) return;
    session = null;
    talk.classList.remove("on");
    if (sendEnd && s.ws?.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify({ type: "end" }));
    s.stream?.getTracks().forEach((tr) => tr.stop());
    s.ctx?.close();
  }
  const talk = h("button", { class: "talk", type: "button", "aria-label": "Hold to talk", disabled: !cfg.voice_stream,
    onpointerdown: (e) => { e.preventDefault(); talk.setPointerCapture(e.pointerId); startTalking(); },
    onpointerup: () => stopTalking(), onpointercancel: () => stopTalking(),
    onkeydown: (e) => { if (e.key === " " && !e.repeat) startTalking(); }, onkeyup: (e) => { if (e.key === " ") stopTalking(); } },
  icon("mic", "icon big-icon"));

  const banner = cfg.voice ? null : h("div", { class: "banner" }, "Voice is not running on this hub. Add ", h("code", {}, "voice:"), " to configuration.yaml and restart.");
  const root = h("main", { class: "page voice-page" },
    h("h1", {}, "Voice"), banner,
    h("div", { class: "talk-wrap" }, talk, h("p", { class: "muted" }, cfg.voice_stream ? "Hold to talk" : "Microphone unavailable")),
    form, log);
  if (!cfg.voice) { input.disabled = true; form.querySelector("button").disabled = true; }
  root.cleanup = () => stopTalking(false);
  return root;
}
