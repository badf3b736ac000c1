// The sound of a new critical alarm (sounds/critical.wav, made by scripts/make_alarm_sound.py).
// The user can mute it (kept in this browser). Browsers let a page play sound only after the
// user has interacted with it: until then a play is refused, the page says "click to enable",
// and the first click anywhere unlocks it.
import { t } from "./i18n.js";
import "./i18n-ops.js";

const MUTED = "smartpark.alarmSoundMuted";
const SOUND_URL = new URL("../sounds/critical.wav", import.meta.url).href;
let audio = null; // made on first use: a cold load does not fetch the sound
let blocked = false;
const listeners = new Set();

export const muted = () => localStorage.getItem(MUTED) === "1";
export const isBlocked = () => blocked;
export function setMuted(on) {
  localStorage.setItem(MUTED, on ? "1" : "0");
  notify();
}
export function onChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function notify() { for (const fn of listeners) fn(); }

/** Play the critical-alarm sound unless muted; a refused autoplay marks the sound blocked. */
export async function play() {
  document.body.dataset.alarmSound = String(Number(document.body.dataset.alarmSound || 0) + 1); // what was asked, for tests
  if (muted()) return false;
  audio ||= Object.assign(new Audio(SOUND_URL), { preload: "auto" });
  try {
    audio.currentTime = 0;
    await audio.play();
    if (blocked) { blocked = false; notify(); }
    return true;
  } catch {
    if (!blocked) { blocked = true; notify(); }
    return false;
  }
}

// The first interaction unlocks audio for the page (a silent play within the gesture).
document.addEventListener("pointerdown", () => {
  if (!blocked) return;
  audio ||= Object.assign(new Audio(SOUND_URL), { preload: "auto" });
  audio.muted = true;
  audio.play().then(() => { audio.pause(); audio.muted = false; blocked = false; notify(); }).catch(() => { audio.muted = false; });
}, { capture: true });

/** A mute toggle button; its label says the state and whether the browser still blocks sound. */
export function soundButton() {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "sound-toggle";
  const show = () => {
    b.textContent = t(muted() ? "sound.off" : "sound.on");
    b.title = blocked && !muted() ? t("sound.blocked") : "";
    b.classList.toggle("blocked", blocked && !muted());
    b.dataset.muted = muted() ? "1" : "0";
  };
  b.addEventListener("click", () => setMuted(!muted()));
  onChange(show);
  show();
  return b;
}

/** Which of `items` are critical, firing and not in `seen` (ids): those sound. Updates `seen`. */
export function newCritical(items, seen, first) {
  const fresh = items.filter((a) => a.severity === "critical" && a.state === "firing" && !a.acknowledged_at && !seen.has(a.alert_id));
  for (const a of items) seen.add(a.alert_id);
  return first ? [] : fresh; // alarms already there when the list first loads are not news
}
