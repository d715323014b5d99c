// The page: one phone per person, kept live from the simulator's WebSocket (no polling).
import { bubble, currentReplyKeyboard, el } from "./render.js";
import { openAttach, openScanner } from "./dialogs.js";

const phones = new Map(); // user id -> Phone
let samples = [];

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

const postJson = (path, body) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

class Phone {
  constructor(person, bot) {
    this.person = person;
    this.base = `/sim/chats/${person.id}`;
    this.messages = new Map(); // message_id -> message JSON
    this.root = document.getElementById("phone-template").content.firstElementChild.cloneNode(true);
    this.root.dataset.user = person.id;
    this.root.dataset.title = person.title;
    this.find(".phone-title").textContent = `${person.title} · ${person.name}`;
    this.find(".bot-name").textContent = bot.name;
    this.find(".avatar").textContent = bot.name.slice(0, 1);
    this.list = this.find(".messages");
    this.input = this.find(".composer textarea");
    this.find(".scan-btn").hidden = !person.scanner;
    this.find(".composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (text.trim()) this.input.value = "";
      this.sendText(text);
    });
    // As in Telegram's apps: Enter sends, Shift+Enter starts a new line of the same message.
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.find(".composer").requestSubmit();
      }
    });
    // As in Telegram: a tap on monospace text copies it (here also into the composer).
    this.list.addEventListener("click", (event) => {
      const code = event.target.closest("code, pre");
      if (!code) return;
      this.input.value = code.textContent;
      this.input.focus();
      navigator.clipboard?.writeText(code.textContent).catch(() => {});
      this.toast("Disalin");
    });
    this.find(".start").addEventListener("click", () => this.sendText("/start"));
    this.find(".menu-btn").addEventListener("click", () => this.toggleMenu());
    this.find(".attach-btn").addEventListener("click", () => openAttach(this, samples));
    this.find(".scan-btn").addEventListener("click", () => openScanner(this, phones.values()));
    // As in Telegram: a chat read to its end stays at its end when the composer grows (a
    // long reply typed) and the chat gets shorter.
    this.pinned = true;
    this.list.addEventListener("scroll", () => (this.pinned = this.atEnd()));
    new ResizeObserver(() => this.pinned && this.scrollDown()).observe(this.list);
  }

  atEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 8;
  }

  find(selector) {
    return this.root.querySelector(selector);
  }

  async load() {
    const { messages, description } = await api(this.base);
    this.description = description;
    this.messages.clear();
    this.list.replaceChildren();
    for (const message of messages) this.upsert(message, false);
    this.refreshChrome();
    this.scrollDown();
  }

  // A new or edited message; an edit replaces its bubble where it stands.
  upsert(message, live = true) {
    const known = this.messages.get(message.message_id);
    if (known && known.seq >= message.seq) return;
    this.messages.set(message.message_id, message);
    const fresh = bubble(message, this);
    const old = this.list.querySelector(`li[data-id="${message.message_id}"]`);
    if (old) {
      // A message edited longer (a question that became its answer and the next one) keeps
      // the end of the chat in view, if it was.
      const atEnd = this.atEnd();
      old.replaceWith(fresh);
      if (live && atEnd) this.scrollDown();
    } else {
      const later = [...this.list.children].find((li) => Number(li.dataset.id) > message.message_id);
      this.list.insertBefore(fresh, later || null);
      if (live) this.scrollDown();
      if (live && message.from_bot) markUnread(this);
    }
    if (live) this.refreshChrome();
  }

  remove(messageId) {
    this.messages.delete(messageId);
    this.list.querySelector(`li[data-id="${messageId}"]`)?.remove();
    this.refreshChrome();
  }

  // The parts around the messages: Start button, reply keyboard, menu button.
  refreshChrome() {
    const empty = this.messages.size === 0;
    const intro = this.find(".bot-intro");
    intro.querySelector("p").textContent = this.description || "";
    intro.hidden = !(empty && this.description);
    this.find(".start-bar").hidden = !empty;
    this.find(".composer").hidden = empty;
    const ordered = [...this.messages.values()].sort((a, b) => a.message_id - b.message_id);
    const markup = currentReplyKeyboard(ordered);
    const board = this.find(".reply-keyboard");
    board.replaceChildren();
    board.hidden = !markup;
    for (const row of markup?.keyboard || []) {
      const line = el("div", "row");
      for (const button of row) {
        const label = typeof button === "string" ? button : button.text;
        const key = el("button", "rkb", label);
        key.type = "button";
        key.addEventListener("click", () => this.sendText(label));
        line.append(key);
      }
      board.append(line);
    }
    this.input.placeholder = markup?.input_field_placeholder || "Tulis pesan…";
  }

  scrollDown() {
    this.list.scrollTop = this.list.scrollHeight;
    // Photos load later and grow the list; keep the newest message in view.
    for (const img of this.list.querySelectorAll("img")) {
      if (!img.complete) img.addEventListener("load", () => (this.list.scrollTop = this.list.scrollHeight), { once: true });
    }
  }

  // -- acting as the person ---------------------------------------------------------------

  act(promise) {
    return promise.catch((error) => this.toast(error.message, true));
  }

  sendText(text) {
    if (!text.trim()) return Promise.resolve();
    this.hideMenu();
    return this.act(postJson(`${this.base}/text`, { text }));
  }

  sendFile(kind, blob, name) {
    const form = new FormData();
    form.append(kind, blob, name);
    return this.act(api(`${this.base}/${kind}`, { method: "POST", body: form }));
  }

  scan(source) {
    if (source instanceof Blob) {
      const form = new FormData();
      form.append("image", source, source.name || "kamera.jpg");
      return api(`${this.base}/scan`, { method: "POST", body: form });
    }
    return postJson(`${this.base}/scan`, { file_id: source });
  }

  // Inline button: like Telegram, the button shows progress until the bot answers.
  tap(message, button, key) {
    if (button.url) {
      const telegram = /^(https?:\/\/)?(www\.)?(t|telegram)\.me\//i.test(button.url);
      if (!telegram) window.open(button.url, "_blank", "noopener");
      return this.act(postJson(`${this.base}/tap`, { message_id: message.message_id, url: button.url }));
    }
    key.classList.add("pending");
    setTimeout(() => key.classList.remove("pending"), 3000);
    return this.act(postJson(`${this.base}/tap`, { message_id: message.message_id, callback_data: button.callback_data }));
  }

  async toggleMenu() {
    const menu = this.find(".command-menu");
    if (!menu.hidden) return this.hideMenu();
    const commands = await api(`${this.base}/commands`).catch(() => []);
    const list = menu.querySelector("ul");
    list.replaceChildren();
    for (const { command, description } of commands) {
      const item = el("li");
      const choose = el("button", "command");
      choose.type = "button";
      choose.append(el("span", "name", `/${command}`), el("span", "description", description));
      choose.addEventListener("click", () => this.sendText(`/${command}`));
      item.append(choose);
      list.append(item);
    }
    if (!commands.length) list.append(el("li", "empty", "Bot belum memasang menu perintah."));
    menu.hidden = false;
  }

  hideMenu() {
    this.find(".command-menu").hidden = true;
  }

  // -- what the bot shows besides messages -----------------------------------------------

  // answerCallbackQuery: a toast at the top, or a modal alert with an OK button.
  showAnswer(alert) {
    for (const key of this.root.querySelectorAll(".ikb.pending")) key.classList.remove("pending");
    if (alert.url) window.open(alert.url, "_blank", "noopener");
    if (!alert.text) return;
    if (!alert.show_alert) return this.toast(alert.text);
    const box = this.find(".alert");
    box.querySelector(".alert-text").textContent = alert.text;
    box.hidden = false;
    box.querySelector("button").onclick = () => (box.hidden = true);
  }

  toast(text, error = false) {
    const note = el("div", error ? "toast error" : "toast", text);
    this.find(".toasts").append(note);
    setTimeout(() => note.remove(), 3500);
  }

  typing() {
    const status = this.find(".bot-status");
    status.textContent = "mengetik…";
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => (status.textContent = "bot"), 2500);
  }
}

// -- tabs for narrow screens ----------------------------------------------------------------

function showPhone(id) {
  for (const phone of phones.values()) phone.root.classList.toggle("active", phone.person.id === id);
  // A hidden list cannot scroll, so messages that came in meanwhile are below the fold.
  phones.get(id)?.scrollDown();
  for (const tab of document.querySelectorAll(".tabs button")) {
    const chosen = Number(tab.dataset.user) === id;
    tab.classList.toggle("active", chosen);
    tab.setAttribute("aria-selected", String(chosen));
    if (chosen) tab.classList.remove("unread");
  }
}

function markUnread(phone) {
  if (phone.root.classList.contains("active")) return;
  document.querySelector(`.tabs button[data-user="${phone.person.id}"]`)?.classList.add("unread");
}

// -- live updates -----------------------------------------------------------------------------

function onEvent(event) {
  if (event.type === "reset") return reloadAll();
  const phone = phones.get(event.chat_id);
  if (!phone) return;
  if (event.type === "message" || event.type === "edit") phone.upsert(event.message);
  else if (event.type === "delete") phone.remove(event.message.message_id);
  else if (event.type === "alert") phone.showAnswer(event.alert);
  else if (event.type === "action") phone.typing();
}

function reloadAll() {
  return Promise.all([...phones.values()].map((phone) => phone.load()));
}

function connect(delay = 500) {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sim/ws`);
  const status = document.getElementById("status");
  socket.onopen = async () => {
    // Whatever happened while disconnected is in the history.
    await reloadAll();
    status.textContent = "tersambung";
    document.body.dataset.live = "true";
    delay = 500;
  };
  socket.onmessage = (message) => onEvent(JSON.parse(message.data));
  socket.onclose = () => {
    status.textContent = "terputus, menyambung ulang…";
    document.body.dataset.live = "false";
    setTimeout(() => connect(Math.min(delay * 2, 8000)), delay);
  };
}

// Reset wipes every chat and the demo's database: ask first, as any destructive button should.
function confirmReset(button) {
  const dialog = document.getElementById("confirm-reset");
  dialog.returnValue = "";
  dialog.onclose = () => {
    if (dialog.returnValue === "reset") resetDemo(button);
  };
  dialog.showModal();
}

async function resetDemo(button) {
  button.disabled = true;
  button.textContent = "↺ Memulai ulang…";
  try {
    await api("/sim/reset", { method: "POST" });
    await reloadAll();
  } catch (error) {
    [...phones.values()][0]?.toast(error.message, true);
  } finally {
    button.disabled = false;
    button.textContent = "↺ Mulai ulang demo";
  }
}

async function main() {
  const info = await api("/sim/people");
  samples = info.samples;
  document.getElementById("bot-handle").textContent = `@${info.bot.username}`;
  const tabs = document.querySelector(".tabs");
  for (const person of info.people) {
    const phone = new Phone(person, info.bot);
    phones.set(person.id, phone);
    document.getElementById("phones").append(phone.root);
    const tab = el("button", "", person.title);
    tab.type = "button";
    tab.dataset.user = person.id;
    tab.setAttribute("role", "tab");
    tab.addEventListener("click", () => showPhone(person.id));
    tabs.append(tab);
  }
  showPhone(info.people[0].id);
  const reset = document.getElementById("reset");
  reset.addEventListener("click", () => confirmReset(reset));
  connect();
}

main();
