// Drawing one chat message the way Telegram does: formatted text, photo, document, buttons.
// Nothing from a message is ever assigned to innerHTML: the bot's HTML is parsed inert and
// rebuilt from Telegram's tag subset, everything else becomes plain text nodes.

// Telegram's parse_mode=HTML tags (https://core.telegram.org/bots/api#html-style) and what
// each becomes on the page.
const TAGS = {
  b: "b", strong: "b", i: "i", em: "i", u: "u", ins: "u", s: "s", strike: "s", del: "s",
  code: "code", pre: "pre", blockquote: "blockquote", a: "a",
};
const LINK_SCHEMES = ["http:", "https:", "tg:", "mailto:"];

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// A /command in a bot's message, as Telegram finds it (a bot_command entity): a slash at
// the start or after a space or bracket, up to 32 letters, digits or underscores.
const COMMAND = /(^|[\s(])(\/[A-Za-z0-9_]{1,32})(?![A-Za-z0-9_/])/g;

// The bot's stored HTML, reduced to Telegram's subset; plain text when it sent none.
// `onCommand(text)`: a /command in the text becomes a link that sends it, as Telegram shows
// a bot's commands (none in code, pre or a link of its own).
export function formatted(html, text, onCommand = null) {
  const out = document.createDocumentFragment();
  if (!html) {
    appendText(out, text || "", onCommand);
    return out;
  }
  // DOMParser documents are inert: no scripts run, no images load.
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  copyAllowed(doc.body, out, onCommand);
  return out;
}

function appendText(target, text, onCommand) {
  if (!onCommand) {
    target.append(text);
    return;
  }
  let from = 0;
  for (const found of text.matchAll(COMMAND)) {
    const start = found.index + found[1].length;
    target.append(text.slice(from, start));
    const command = found[2];
    const link = el("a", "bot-command", command);
    link.href = "#";
    link.addEventListener("click", (event) => {
      event.preventDefault();
      onCommand(command);
    });
    target.append(link);
    from = start + command.length;
  }
  target.append(text.slice(from));
}

function copyAllowed(source, target, onCommand) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      appendText(target, node.textContent, onCommand);
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const name = node.localName;
    const spoiler = name === "tg-spoiler" || (name === "span" && node.classList.contains("tg-spoiler"));
    let copy = null;
    if (spoiler) {
      copy = el("span", "spoiler");
      copy.title = "ketuk untuk membuka";
      copy.addEventListener("click", () => copy.classList.add("revealed"));
    } else if (TAGS[name]) {
      copy = document.createElement(TAGS[name]);
      if (name === "a") safeLink(node, copy);
      if (name === "blockquote" && node.hasAttribute("expandable")) copy.className = "expandable";
    }
    // Unknown tags (and tg-emoji) keep their text only; code and links keep their commands.
    const inert = name === "a" || name === "code" || name === "pre";
    copyAllowed(node, copy || target, inert ? null : onCommand);
    if (copy) target.append(copy);
  }
}

function safeLink(source, copy) {
  try {
    const url = new URL(source.getAttribute("href") || "", location.href);
    if (LINK_SCHEMES.includes(url.protocol)) {
      copy.href = url.href;
      copy.target = "_blank";
      copy.rel = "noopener noreferrer";
    }
  } catch {
    // An unparsable href leaves the text without a link, as Telegram does.
  }
}

function clock(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit" });
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// One <li> bubble. `actions.tap(message, button)` is called for inline buttons.
export function bubble(message, actions) {
  const item = el("li", message.from_bot ? "msg bot" : "msg me");
  item.dataset.id = message.message_id;
  item.dataset.seq = message.seq;
  const body = el("div", "bubble");
  if (message.photo) {
    const link = el("a", "photo");
    link.href = message.photo;
    link.target = "_blank";
    link.rel = "noopener";
    const img = el("img");
    img.src = message.photo;
    img.alt = "foto";
    img.loading = "lazy";
    link.append(img);
    body.append(link);
  }
  if (message.document) {
    const doc = el("a", "document");
    doc.href = message.document.url;
    doc.target = "_blank";
    doc.rel = "noopener";
    doc.append(el("span", "doc-icon", "📄"));
    const about = el("span", "doc-about");
    about.append(el("span", "doc-name", message.document.name || "file"));
    about.append(el("span", "doc-size", size(message.document.size)));
    doc.append(about);
    body.append(doc);
  }
  const html = message.text !== null ? message.html : message.caption_html;
  const text = message.text !== null ? message.text : message.caption;
  if (text) {
    const content = el("div", "text");
    const command = message.from_bot ? (name) => actions.sendText(name) : null;
    content.append(formatted(html, text, command));
    body.append(content);
  }
  const meta = el("span", "meta", clock(message.date));
  if (message.edit_count > 0) meta.prepend(el("span", "edited", "diedit "));
  body.append(meta);
  item.append(body);
  if (message.buttons.length) item.append(keyboard(message, actions));
  return item;
}

function keyboard(message, actions) {
  const board = el("div", "inline-keyboard");
  for (const row of message.buttons) {
    const line = el("div", "row");
    for (const button of row) {
      const key = el("button", button.url ? "ikb url" : "ikb", button.text);
      key.type = "button";
      key.addEventListener("click", () => actions.tap(message, button, key));
      line.append(key);
    }
    board.append(line);
  }
  return board;
}

// The custom keyboard a chat shows now: the newest bot message that set or removed one.
// A one-time keyboard hides once the person has answered.
export function currentReplyKeyboard(messages) {
  let answered = false;
  for (const message of [...messages].reverse()) {
    if (!message.from_bot) {
      answered = true;
      continue;
    }
    const markup = message.reply_markup || {};
    if (markup.keyboard) return markup.one_time_keyboard && answered ? null : markup;
    if (markup.remove_keyboard) return null;
  }
  return null;
}
