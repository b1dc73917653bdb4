// FlowChat's small enhancements. Everything here is optional: each page works without it.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  // Preference forms apply as soon as a choice changes; without JS the Apply button posts them.
  const form = event.target.closest("form[data-autosubmit]");
  if (form) form.requestSubmit();
});

document.addEventListener("click", (event) => {
  // Close an open menu when clicking elsewhere.
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  }
});

// A reaction picker loads its forms the first time it opens: each message carries only a link
// to its reactions page (what it opens without JavaScript), whose ?picker answer is the panel.
// "toggle" does not bubble: listened for in the capture phase.
document.addEventListener(
  "toggle",
  (event) => {
    const picker = event.target;
    if (!(picker instanceof HTMLDetailsElement) || !picker.open || !picker.matches(".reaction-picker")) return;
    const panel = picker.querySelector(":scope > div");
    const link = panel && panel.querySelector(":scope > a");
    if (!link || !window.htmx) return;
    htmx.ajax("GET", `${link.getAttribute("href")}?picker`, { target: panel, swap: "innerHTML" });
  },
  true,
);

// The chat window ---------------------------------------------------------------------------

const scroller = () => document.getElementById("scroller");

function scrollToBottom() {
  const box = scroller();
  if (box) box.scrollTop = box.scrollHeight;
}

function isNearBottom(box, slack = 120) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < slack;
}

// Open a chat at the "new messages" divider, else at the newest message. A link with a
// fragment (#unread, #bottom, #message-42) has already put the browser where it points.
(function openChat() {
  const box = scroller();
  if (!box) return;
  const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) {
    target.scrollIntoView({ block: "start" });
  } else {
    scrollToBottom();
  }
})();

// Enter sends, Shift+Enter starts a new line. On a touch screen the keyboard's Enter is the
// only way to a new line, so there the send button sends.
const touchOnly = window.matchMedia("(pointer: coarse)");

// htmx binds what it swaps in a moment after focusing its [autofocus] field; a quick key
// must not beat it and fall back to a plain link or a full-page post.
function bound(element) {
  if (window.htmx) htmx.process(element);
  return element;
}

document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLTextAreaElement) || !field.hasAttribute("data-enter-sends")) return;
  if (event.key === "Escape") {
    // Escape leaves an in-place edit, like its Cancel link.
    const cancel = field.form && field.form.querySelector("[data-cancel][hx-get]");
    if (cancel) bound(cancel).click();
    return;
  }
  if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.isComposing || touchOnly.matches) return;
  event.preventDefault();
  const form = field.form;
  const hasPicture = [...form.querySelectorAll("input[type=file]")].some((input) => input.files.length);
  if (field.value.trim() || hasPicture) bound(form).requestSubmit();
});

// The textarea grows with what is typed (CSS field-sizing does it where supported).
if (!CSS.supports("field-sizing", "content")) {
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLTextAreaElement) || !field.hasAttribute("data-enter-sends")) return;
    field.style.height = "auto";
    field.style.height = `${field.scrollHeight + 2}px`;
  });
}

// Show the name of the chosen picture beside the paperclip.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || input.hasAttribute("data-files")) return;
  const label = input.form && input.form.querySelector("[data-attach-name]");
  if (label) label.textContent = input.files.length ? input.files[0].name : "";
});

// Files for a message: chosen with the button, dropped on the composer or pasted into it ------------
// They all live in the one <input name="files" multiple> (through a DataTransfer), so the form
// sends them as it would without JavaScript; the list under the composer shows them, each with
// a Remove button.

const filesInput = (form) => form && form.querySelector("input[data-files]");

function setFiles(input, files) {
  const transfer = new DataTransfer();
  for (const file of files) transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

function addFiles(form, added) {
  const input = filesInput(form);
  if (!input || !added.length) return false;
  setFiles(input, [...input.files, ...added]);
  return true;
}

function showChosenFiles(input) {
  const list = input.form.querySelector("#chosen-files");
  if (!list) return;
  list.replaceChildren();
  [...input.files].forEach((file, index) => {
    const item = document.createElement("li");
    const name = document.createElement("bdi");
    name.textContent = file.name; // text, never markup: the name is the sender's to choose
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button button-quiet button-small";
    remove.dataset.removeFile = String(index);
    remove.textContent = list.dataset.removeLabel;
    remove.setAttribute("aria-label", `${list.dataset.removeLabel} ${file.name}`);
    item.append(name, remove);
    list.append(item);
  });
  list.hidden = input.files.length === 0;
}

document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.hasAttribute("data-files")) showChosenFiles(input);
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-remove-file]");
  if (!button) return;
  const form = button.closest("form");
  const input = filesInput(form);
  const index = Number(button.dataset.removeFile);
  setFiles(input, [...input.files].filter((_file, position) => position !== index));
  (form.querySelector("#chosen-files [data-remove-file]") || form.querySelector("textarea")).focus();
});

document.addEventListener("paste", (event) => {
  const form = event.target.closest && event.target.closest("#composer");
  const files = [...((event.clipboardData && event.clipboardData.files) || [])];
  // A pasted picture (a screenshot) is attached; pasted text stays text.
  if (form && files.length && addFiles(form, files)) event.preventDefault();
});

for (const type of ["dragenter", "dragover"]) {
  document.addEventListener(type, (event) => {
    const form = event.target.closest && event.target.closest("#composer");
    if (!form || !event.dataTransfer || ![...event.dataTransfer.types].includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    form.classList.add("is-dropping");
  });
}
document.addEventListener("dragleave", (event) => {
  const form = event.target.closest && event.target.closest("#composer");
  if (form && !form.contains(event.relatedTarget)) form.classList.remove("is-dropping");
});
document.addEventListener("drop", (event) => {
  const form = event.target.closest && event.target.closest("#composer");
  if (!form || !event.dataTransfer) return;
  form.classList.remove("is-dropping");
  if (event.dataTransfer.files.length && addFiles(form, [...event.dataTransfer.files])) event.preventDefault();
});

// htmx ------------------------------------------------------------------------------------

// htmx binds swapped-in content after its settle delay; bind it at once, so that a quick
// keyboard user's Enter on a new Edit link is not a plain page load. (Binding is idempotent.)
document.addEventListener("htmx:afterSwap", (event) => htmx.process(event.target));

// A form answered with 400 (or 429, sending too fast) carries its own errors: show it, as
// without JavaScript. Another 4xx is an outcome for the person (a page gone stale, no longer
// allowed), told by notify(). In DEBUG, django-htmx's helper shows such answers as a whole
// error page (from `document`); they stop here, on their way up through <body>, and only
// 5xx (bugs) reach it.
const FORM_ERRORS = new Set([400, 429]);
document.body.addEventListener("htmx:beforeOnLoad", (event) => {
  const xhr = event.detail.xhr;
  const formErrors = FORM_ERRORS.has(xhr.status) && !/^\s*<!doctype/i.test(xhr.response);
  if (formErrors || (xhr.status > 400 && xhr.status < 500)) event.stopPropagation();
});
document.addEventListener("htmx:beforeSwap", (event) => {
  if (FORM_ERRORS.has(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A pushed message and a pushed reactions bar come without the Reply link and the reaction
// picker, the same in every message but for its id (each tab got those bytes again with every
// message; only tabs with JavaScript get pushes): they are added from the page's one copy,
// rendered for a message numbered 0.
function addMessageControls() {
  const controls = document.getElementById("message-controls");
  if (!controls) return;
  const live = "#messages article.message:not(.message-system, .message-deleted)";
  // A new message is pushed without the empty places of its receipt and reactions (rendering.new_message).
  for (const article of document.querySelectorAll(`${live}:not(:has(.reactions))`)) {
    const meta = article.querySelector(":scope > .bubble > .message-meta");
    if (!meta) continue;
    const receipt = document.createElement("span");
    receipt.className = "receipt";
    receipt.id = `${article.id}-receipt`;
    if (!meta.querySelector(".receipt")) meta.append(receipt);
    const bar = document.createElement("div");
    bar.className = "reactions";
    bar.id = `${article.id}-reactions`;
    meta.after(bar);
  }
  for (const article of document.querySelectorAll(`${live}:not(:has([data-reply]))`)) {
    const permalink = article.querySelector(":scope > .bubble > .message-meta > .message-link");
    if (!permalink) continue;
    const reply = controls.content.querySelector("[data-reply]").cloneNode(true);
    reply.href = reply.getAttribute("href").replace("reply_to=0", `reply_to=${article.id.slice("message-".length)}`);
    permalink.before(reply);
  }
  for (const bar of document.querySelectorAll(`${live} .reactions:not(:has(.reaction-picker))`)) {
    const id = bar.id.match(/^message-(\d+)-reactions$/);
    if (!id) continue;
    const picker = controls.content.querySelector(".reaction-picker").cloneNode(true);
    const link = picker.querySelector("a");
    link.href = link.getAttribute("href").replace("/messages/0/", `/messages/${id[1]}/`);
    bar.append(picker);
  }
}
document.addEventListener("htmx:wsAfterMessage", addMessageControls);

// Older messages go above what is on screen: keep the reader where they were.
let distanceFromBottom = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const box = scroller();
  if (box && event.detail.target.id === "messages" && event.detail.requestConfig.elt.closest("#older")) {
    distanceFromBottom = box.scrollHeight - box.scrollTop;
    document.getElementById("messages").setAttribute("aria-busy", "true");
  }
});
document.addEventListener("htmx:afterSwap", (event) => {
  const box = scroller();
  if (box && distanceFromBottom !== null && event.detail.target.id === "messages") {
    box.scrollTop = box.scrollHeight - distanceFromBottom;
    distanceFromBottom = null;
    document.getElementById("messages").removeAttribute("aria-busy");
  }
});

// Pushes can arrive out of order (an edit read on one server process before a delete
// committed on another is published after it): every message carries its version
// (data-version, raised by each edit and the deletion), and a copy older than the one on the
// page is dropped. A deleted message never comes back, whatever the copy says.
function isStale(incoming, existing) {
  if (!existing.classList.contains("message") || !incoming.classList.contains("message")) return false;
  if (existing.classList.contains("message-deleted") && !incoming.classList.contains("message-deleted")) return true;
  const shown = Number(existing.dataset.version);
  const arriving = Number(incoming.dataset.version);
  return shown > 0 && arriving > 0 && arriving < shown;
}

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const { fragment, target } = event.detail;
  if (!fragment || !target.matches("#messages > .message")) return;
  const incoming = fragment instanceof DocumentFragment ? fragment.firstElementChild : null;
  if (incoming && incoming.id === target.id) {
    // The message in place (hx-swap-oob="true"): only by a copy at least as new.
    if (isStale(incoming, target)) event.detail.shouldSwap = false;
  } else if (fragment.querySelector(".message-menu")) {
    // Edit and Delete for the author (beforeend:#message-N): once, and never on a deleted message.
    if (target.classList.contains("message-deleted") || target.querySelector(".message-menu")) {
      event.detail.shouldSwap = false;
    }
  }
});

// A chat's row whose time changes has a new last message: it moves to the top of the list.
// (A whole row pushed again, renamed say, carries its time unchanged: it stays where it is.)
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const { target, fragment } = event.detail;
  if (!target || !fragment || !target.matches(".chat-time")) return;
  const incoming = fragment.querySelector("time");
  const row = target.closest("li.chat-row");
  if (!incoming || !row || incoming.getAttribute("datetime") === target.getAttribute("datetime")) return;
  if (row.parentElement.firstElementChild !== row) row.parentElement.prepend(row);
});

// A message or chat row that is already on the page is replaced, never shown twice: the
// answer to my own send and the socket may both deliver it. A message keeps its place; a
// chat row moves to where the new one goes (the top of the list).
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const { fragment, target } = event.detail;
  if (!fragment || !(target.id === "messages" || target.id === "chats")) return;
  const box = scroller();
  const wasNearBottom = box && isNearBottom(box);
  for (const incoming of fragment.querySelectorAll(":scope > [id]")) {
    const existing = document.getElementById(incoming.id);
    if (!existing) continue;
    if (existing.closest("#chats")) {
      existing.remove();
    } else if (isStale(incoming, existing)) {
      incoming.remove();
    } else {
      existing.replaceWith(incoming);
      htmx.process(incoming);
    }
  }
  const list = document.getElementById("chats");
  const empty = list && list.querySelector(":scope > .empty");
  if (empty && target === list) empty.remove();
  if (target.id === "messages" && wasNearBottom) {
    requestAnimationFrame(scrollToBottom);
  }
});

// Text typed while a message was on its way is not lost when the fresh composer comes back.
let unsent = "";
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt;
  if (form.id === "composer") form.dataset.sending = form.querySelector("#composer-text").value;
});
document.addEventListener("htmx:beforeSwap", (event) => {
  const form = event.detail.target;
  if (form.id !== "composer" || event.detail.xhr.status >= 300 || form.dataset.sending === undefined) return;
  const typed = form.querySelector("#composer-text").value;
  const sent = form.dataset.sending;
  unsent = typed.startsWith(sent) ? typed.slice(sent.length).trimStart() : typed;
});
document.addEventListener("htmx:afterSwap", (event) => {
  const field = document.getElementById("composer-text");
  if (!unsent || !field || event.detail.target.id !== "composer") return;
  field.value = unsent;
  unsent = "";
});

// After sending, show the sent message at the bottom.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id === "composer" || event.detail.elt.id === "composer") {
    if (event.detail.xhr && event.detail.xhr.status < 300) requestAnimationFrame(scrollToBottom);
  }
});

// A request htmx could not complete would otherwise fail silently: say so.
function notify(templateId) {
  const template = document.getElementById(templateId);
  const area = document.getElementById("request-notices");
  if (!template || !area) return;
  const notice = document.createElement("p");
  notice.className = "notice notice-error";
  notice.textContent = template.content.textContent.trim();
  area.replaceChildren(notice);
}
document.addEventListener("htmx:responseError", () => notify("request-failed"));
document.addEventListener("htmx:sendError", () => notify("request-offline"));
document.addEventListener("htmx:beforeRequest", () => {
  const area = document.getElementById("request-notices");
  if (area) area.replaceChildren();
});

// Live: what others do arrives over the page's socket (ws-connect on <body>) -------------------

// A pushed piece aims at a stable id or selector; one whose target is not on this page (a
// chat row on the profile page, a receipt of a message not loaded) is dropped here, quietly.
htmx.defineExtension("live", {
  transformResponse(text, xhr, elt) {
    // Socket messages, and the catch-up after a (re)connect (asked for by the message list);
    // other htmx answers are left as they are.
    if (xhr && !(elt && elt.id === "messages")) return text;
    const template = document.createElement("template");
    template.innerHTML = text;
    for (const piece of [...template.content.children].filter((child) => child.hasAttribute("hx-swap-oob"))) {
      const swap = piece.getAttribute("hx-swap-oob");
      const colon = swap.indexOf(":");
      const selector = colon > 0 ? swap.slice(colon + 1) : `#${CSS.escape(piece.id)}`;
      if (!document.querySelector(selector)) piece.remove();
    }
    return template.innerHTML;
  },
});

const messageList = () => document.getElementById("messages");

let socket = null;
let connectedBefore = false;
document.addEventListener("htmx:wsOpen", (event) => {
  socket = event.detail.socketWrapper;
  // Nothing is replayed over a socket: fetch what was missed before it (re)connected — since
  // the page was rendered, the first time — and replace what is already here.
  catchUp(connectedBefore);
  connectedBefore = true;
});
document.addEventListener("htmx:wsClose", () => {
  socket = null;
});

// Whether this page is shown: a person with no shown tab gets push notifications instead
// (conversations/consumers.py "visibility"). The server takes a new socket as shown.
const sayVisibility = (always) => {
  const visible = document.visibilityState === "visible";
  if (socket && (always || !visible)) socket.send(JSON.stringify({ type: "visibility", visible }));
};
document.addEventListener("htmx:wsOpen", () => sayVisibility(false));
document.addEventListener("visibilitychange", () => sayVisibility(true));

function catchUp(refreshList) {
  const list = messageList();
  const synced = document.getElementById("synced");
  if (list && synced) {
    const last = list.querySelector(":scope > .message:last-of-type");
    const after = last ? last.id.replace("message-", "") : "0";
    const url = `${list.dataset.updatesUrl}?after=${after}&since=${encodeURIComponent(synced.dataset.at)}`;
    htmx.ajax("GET", url, { source: list, swap: "none" });
  }
  const chats = document.getElementById("chats");
  if (refreshList && chats) htmx.ajax("GET", chats.dataset.url, { target: "#chats", swap: "outerHTML" });
}

// "typing": at most every two seconds while someone types in the composer.
let typedAt = 0;
document.addEventListener("input", (event) => {
  const list = messageList();
  if (!socket || !list || event.target.id !== "composer-text") return;
  const now = Date.now();
  if (now - typedAt < 2000) return;
  typedAt = now;
  socket.send(JSON.stringify({ type: "typing", chat: Number(list.dataset.chat) }), list);
});

// The tab's title counts the unread messages of every chat in the list.
const baseTitle = document.title;
function showUnreadTotal() {
  const chats = document.getElementById("chats");
  if (!chats) return;
  let total = 0;
  for (const badge of chats.querySelectorAll(".badge")) total += Number(badge.textContent) || 0;
  document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
}
showUnreadTotal();

document.addEventListener("htmx:wsAfterMessage", () => {
  // The open chat's row is not "unread" while it is open and read.
  const list = messageList();
  const open = list && document.getElementById(`chat-${list.dataset.chat}`);
  if (open) open.querySelector(".chat-link").setAttribute("aria-current", "page");
  showUnreadTotal();
});
document.addEventListener("htmx:afterSettle", showUnreadTotal);

// Reading: a message is read once it has been on screen in a visible tab ------------------------
//
// Not when it merely arrived: the reader may be scrolled up in the history or in another tab.
// Each message is watched as it comes onto the page; the tab reports "read up to message X"
// (POST mark_read, the action every other path uses) for the newest one seen while the
// document is visible. Opening the chat at its newest message has read it already (the view).

const reading = {
  reported: 0, // the newest message id this chat is known to be read up to
  onScreen: new Set(), // ids of messages on screen now (half of them, or half the window)
  unseen: new Set(), // ids of others' messages that arrived since the page opened, not yet seen
  newest: 0, // the newest message id on the page
  timer: null,
};

const messageId = (element) => Number(element.id.replace("message-", "")) || 0;

function reportRead() {
  const list = messageList();
  if (!list || document.visibilityState !== "visible") return;
  let seen = 0;
  for (const id of reading.onScreen) seen = Math.max(seen, id);
  for (const id of reading.unseen) if (id <= seen) reading.unseen.delete(id);
  showNewBelow();
  if (seen <= reading.reported) return;
  reading.reported = seen;
  clearTimeout(reading.timer);
  // A short pause: scrolling through ten messages is one report, not ten.
  reading.timer = setTimeout(() => {
    htmx.ajax("POST", list.dataset.readUrl, { values: { up_to: reading.reported }, swap: "none", source: list });
  }, 300);
}

const seenWatcher =
  scroller() && "IntersectionObserver" in window
    ? new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            const id = messageId(entry.target);
            const shown =
              entry.isIntersecting &&
              (entry.intersectionRatio >= 0.5 ||
                (entry.rootBounds && entry.intersectionRect.height >= entry.rootBounds.height / 2));
            if (shown) reading.onScreen.add(id);
            else reading.onScreen.delete(id);
          }
          reportRead();
        },
        { root: scroller(), threshold: [0, 0.25, 0.5, 0.75, 1] },
      )
    : null;

function watchMessage(element, { arrived }) {
  if (!element.matches(".message[id^='message-']")) return;
  const id = messageId(element);
  const list = messageList();
  if (arrived && id > reading.newest && list && element.dataset.author !== list.dataset.viewer) {
    reading.unseen.add(id);
  }
  reading.newest = Math.max(reading.newest, id);
  if (seenWatcher) seenWatcher.observe(element);
}

(function watchTheChat() {
  const list = messageList();
  if (!list || !seenWatcher) return;
  reading.reported = Number(list.dataset.readUpTo) || 0;
  for (const element of list.querySelectorAll(":scope > .message")) watchMessage(element, { arrived: false });
  // Whatever puts a message on the page (the socket, the catch-up, an edit, older history)
  // adds or replaces an element in the list.
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.removedNodes) {
        if (node instanceof Element && node.id) {
          seenWatcher.unobserve(node);
          if (!document.getElementById(node.id)) reading.onScreen.delete(messageId(node));
        }
      }
      for (const node of change.addedNodes) {
        if (node instanceof Element) watchMessage(node, { arrived: true });
      }
    }
    requestAnimationFrame(showNewBelow);
  }).observe(list, { childList: true });
  document.addEventListener("visibilitychange", reportRead);
  scroller().addEventListener("scroll", showNewBelow, { passive: true });
})();

// "New messages ↓": something arrived below what the reader is looking at.
function showNewBelow() {
  const button = document.getElementById("new-below");
  const box = scroller();
  if (!button || !box) return;
  button.hidden = reading.unseen.size === 0 || isNearBottom(box, 40);
}

document.addEventListener("click", (event) => {
  if (!event.target.closest("#new-below")) return;
  const first = Math.min(...reading.unseen);
  const target = document.getElementById(`message-${first}`);
  if (target) target.scrollIntoView({ block: "start" });
  else scrollToBottom();
  // The button goes once what it pointed at is seen: the reader stays in the messages.
  scroller().focus({ preventScroll: true });
});

// Drafts: what is typed in a chat's composer stays there, per person and chat -----------------
//
// Kept in this browser (localStorage) as it is typed, so switching chats or reloading loses
// nothing; forgotten once the message is sent.

function draftKey() {
  const list = messageList();
  return list ? `flowchat.draft.${list.dataset.viewer}.${list.dataset.chat}` : null;
}

function keepDraft(text) {
  const key = draftKey();
  if (!key) return;
  try {
    if (text.trim()) localStorage.setItem(key, text);
    else localStorage.removeItem(key);
  } catch {
    // Storage may be full or switched off: the draft just is not kept.
  }
}

function restoreDraft() {
  const field = document.getElementById("composer-text");
  const key = draftKey();
  if (!field || !key || field.value.trim()) return;
  let draft = null;
  try {
    draft = localStorage.getItem(key);
  } catch {
    return;
  }
  if (draft) field.value = draft;
}
restoreDraft();

document.addEventListener("input", (event) => {
  if (event.target.id === "composer-text") keepDraft(event.target.value);
});
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id !== "composer") return;
  const field = document.getElementById("composer-text");
  // Sent: what is left in the fresh composer (text typed meanwhile) is the draft now.
  if (event.detail.xhr && event.detail.xhr.status < 300) keepDraft(field ? field.value : "");
  else restoreDraft();
});

// Connection: say when the socket is down, and catch up as soon as it is back ----------------------
//
// htmx's ws extension retries after 1006/1011/1012/1013 with "full jitter" up to 2^n seconds,
// so after a server restart a tab could wait many seconds for its next try. Here the pauses
// stay short (a quarter second, doubling to two at most) and still spread out (half to all of
// the pause), and the catch-up over HTTP (catchUp above) follows each reopening at once.
htmx.config.wsReconnectDelay = (retries) => {
  const pause = Math.min(250 * 2 ** retries, 2000);
  return pause / 2 + (Math.random() * pause) / 2;
};
const RETRIED_CLOSES = new Set([1006, 1011, 1012, 1013]);

function showConnection(lost) {
  const status = document.getElementById("connection-status");
  if (status) status.textContent = lost ? status.dataset.reconnecting : "";
  // While the page hears nothing, it cannot know who is online: no green dots, no "Online".
  if (lost) {
    document.documentElement.dataset.connection = "lost";
    const unknown = document.getElementById("presence-unknown");
    for (const text of document.querySelectorAll("[data-presence-text]")) {
      if (!text.querySelector(".dot-online") || !unknown) continue;
      text.dataset.online = text.innerHTML;
      text.textContent = unknown.content.textContent.trim();
    }
  } else {
    delete document.documentElement.dataset.connection;
    for (const text of document.querySelectorAll("[data-presence-text][data-online]")) {
      text.innerHTML = text.dataset.online; // until the catch-up or a push says otherwise
      delete text.dataset.online;
    }
  }
}
document.addEventListener("htmx:wsClose", (event) => {
  if (RETRIED_CLOSES.has(event.detail.event.code)) showConnection(true);
});
document.addEventListener("htmx:wsOpen", () => showConnection(false));

// Errors at the composer go once the text (or the picture) changes --------------------------------

document.addEventListener("input", (event) => clearFieldErrors(event.target));
document.addEventListener("change", (event) => clearFieldErrors(event.target));
function clearFieldErrors(field) {
  const form = field.form;
  if (!form || !(form.id === "composer" || form.classList.contains("edit-form"))) return;
  const errors = form.querySelector(".composer-errors, .errorlist");
  if (!errors) return;
  errors.remove();
  for (const invalid of form.querySelectorAll("[aria-invalid]")) {
    invalid.removeAttribute("aria-invalid");
    invalid.removeAttribute("aria-describedby");
  }
}

// Limits: a counter near a field's maxlength, and a word when a paste did not fit ----------------

const NEAR_LIMIT = 0.8;
const countsCharacters = (field) =>
  (field instanceof HTMLTextAreaElement || (field instanceof HTMLInputElement && field.type === "text")) &&
  field.maxLength > 0 &&
  field.id;

function limitPart(field, kind) {
  // The counter and the note sit after the field (in the composer, on a line of their own).
  const id = `${field.id}-${kind}`;
  let part = document.getElementById(id);
  if (!part) {
    part = document.createElement(kind === "count" ? "span" : "p");
    part.id = id;
    part.className = kind === "count" ? "char-count" : "limit-note";
    if (kind === "note") part.setAttribute("role", "status");
    field.after(part);
  }
  return part;
}

function showCount(field) {
  if (!countsCharacters(field)) return;
  const length = field.value.length;
  const limit = field.maxLength;
  const existing = document.getElementById(`${field.id}-count`);
  if (length < limit * NEAR_LIMIT) {
    if (existing) existing.remove();
    const note = document.getElementById(`${field.id}-note`);
    if (note && length < limit) note.remove();
    return;
  }
  const count = existing || limitPart(field, "count");
  const format = new Intl.NumberFormat(document.documentElement.lang || undefined);
  count.textContent = `${format.format(length)} / ${format.format(limit)}`;
  count.classList.toggle("is-full", length >= limit);
}

function limitNote(limit) {
  const texts = document.getElementById("limit-note");
  if (!texts) return "";
  // One text per plural form, rendered for 1, 2 and 5: take the one whose form this number has.
  const rules = new Intl.PluralRules(document.documentElement.lang || undefined);
  const form = rules.select(limit);
  const sample = ["1", "2", "5"].find((n) => rules.select(Number(n)) === form) || "5";
  const format = new Intl.NumberFormat(document.documentElement.lang || undefined);
  return texts.getAttribute(`data-for-${sample}`).replace("{limit}", format.format(limit));
}

document.addEventListener("input", (event) => showCount(event.target));
document.addEventListener("focusin", (event) => showCount(event.target));
document.addEventListener("paste", (event) => {
  const field = event.target;
  if (!countsCharacters(field) || !event.clipboardData) return;
  const pasted = event.clipboardData.getData("text");
  const room = field.maxLength - field.value.length + (field.selectionEnd - field.selectionStart);
  if (pasted.length <= room) return;
  // The browser keeps what fits: say that the rest was left out, rather than cut it silently.
  limitPart(field, "note").textContent = limitNote(field.maxLength);
});
document.addEventListener("htmx:afterSwap", () => {
  const field = document.getElementById("composer-text");
  if (field) showCount(field);
});

// Pictures open in a viewer over the chat; the link (a new tab) is the way without JavaScript ---

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-picture]");
  const viewer = document.getElementById("picture-viewer");
  if (!link || !viewer || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  const picture = viewer.querySelector("img");
  const thumbnail = link.querySelector("img");
  picture.src = link.getAttribute("href");
  picture.alt = thumbnail ? thumbnail.alt : "";
  viewer.opener = link;
  viewer.showModal();
});
document.addEventListener(
  "close",
  (event) => {
    const viewer = event.target;
    if (viewer.id !== "picture-viewer") return;
    viewer.querySelector("img").removeAttribute("src");
    if (viewer.opener && viewer.opener.isConnected) viewer.opener.focus();
    viewer.opener = null;
  },
  true,
);

// The phone: a message's menu shows once the message is tapped (or the menu focused) ----------

document.addEventListener("click", (event) => {
  const message = event.target.closest("#messages > .message");
  for (const active of document.querySelectorAll("#messages > .message.is-active")) {
    if (active !== message) active.classList.remove("is-active");
  }
  if (message && !event.target.closest("a, button, summary, details")) message.classList.add("is-active");
});

// Reply: the composer's reply slot is filled in place (the text being typed stays); a
// quote whose message is on the page scrolls to it instead of loading the history around it.
document.addEventListener("click", (event) => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const reply = event.target.closest("a[data-reply]");
  if (reply && window.htmx && document.getElementById("composer-reply")) {
    event.preventDefault();
    htmx.ajax("GET", reply.href.split("#")[0], { target: "#composer-reply", swap: "outerHTML" }).then(() => {
      const text = document.getElementById("composer-text");
      if (text) text.focus();
    });
    return;
  }
  const quote = event.target.closest("a[data-quote-of]");
  if (!quote) return;
  const original = document.getElementById(`message-${quote.dataset.quoteOf}`);
  if (!original) return;
  event.preventDefault();
  document.querySelectorAll(".message.is-highlighted").forEach((element) => element.classList.remove("is-highlighted"));
  original.classList.add("is-highlighted");
  original.scrollIntoView({ block: "center", behavior: "smooth" });
  history.replaceState(history.state, "", `#message-${quote.dataset.quoteOf}`);
});
