// Typing "@" in the composer offers the chat's other members to mention: a listbox under the
// caret's line, driven by the keyboard (Up, Down, Enter or Tab to choose, Escape to close) or
// the pointer. Without JavaScript "@username" typed in full works the same: the server finds
// mentions in the text (conversations/formatting.py); this only helps to type them.
"use strict";

(function mentions() {
  const MENTION_BEFORE_CARET = /(?:^|[^\w.+-])@([\w.+-]{0,150})$/u;
  let list = null; // the open listbox, or null
  let field = null; // the textarea it belongs to
  let active = -1;
  let people = [];
  let request = null;

  function tokenBeforeCaret(textarea) {
    if (textarea.selectionStart !== textarea.selectionEnd) return null;
    const found = MENTION_BEFORE_CARET.exec(textarea.value.slice(0, textarea.selectionStart));
    return found ? found[1] : null;
  }

  function close() {
    if (request) request.abort();
    request = null;
    if (list) list.remove();
    if (field) {
      field.removeAttribute("aria-activedescendant");
      field.removeAttribute("aria-controls");
    }
    list = field = null;
    active = -1;
    people = [];
  }

  function choose(index) {
    const person = people[index];
    const textarea = field;
    if (!person || !textarea) return;
    const caret = textarea.selectionStart;
    const before = textarea.value.slice(0, caret).replace(/@[\w.+-]*$/u, `@${person.username} `);
    textarea.value = before + textarea.value.slice(caret);
    textarea.setSelectionRange(before.length, before.length);
    close();
    textarea.focus();
  }

  function highlight(index) {
    if (!list) return;
    active = (index + people.length) % people.length;
    list.querySelectorAll("[role=option]").forEach((option, n) => {
      option.setAttribute("aria-selected", n === active ? "true" : "false");
    });
    const option = document.getElementById(`mention-option-${active}`);
    field.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function show(textarea, found) {
    if (!found.length) {
      close();
      return;
    }
    if (!list) {
      list = document.createElement("ul");
      list.id = "mention-list";
      list.className = "mention-list";
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-label", textarea.dataset.mentionsLabel || "");
      // A pointer picks without taking the focus from the textarea.
      list.addEventListener("mousedown", (event) => event.preventDefault());
      list.addEventListener("click", (event) => {
        const option = event.target.closest("[role=option]");
        if (option) choose(Number(option.dataset.index));
      });
      textarea.form.append(list);
    }
    field = textarea;
    people = found;
    list.replaceChildren(
      ...found.map((person, index) => {
        const option = document.createElement("li");
        option.id = `mention-option-${index}`;
        option.setAttribute("role", "option");
        option.dataset.index = String(index);
        const name = document.createElement("bdi");
        name.textContent = person.name;
        const username = document.createElement("span");
        username.className = "mention-username";
        username.textContent = `@${person.username}`;
        option.append(name, " ", username);
        return option;
      }),
    );
    textarea.setAttribute("aria-controls", list.id);
    highlight(0);
  }

  function lookUp(textarea) {
    const query = tokenBeforeCaret(textarea);
    if (query === null) {
      close();
      return;
    }
    if (request) request.abort();
    request = new AbortController();
    const url = `${textarea.dataset.mentions}?q=${encodeURIComponent(query)}`;
    fetch(url, { signal: request.signal, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : []))
      .then((found) => {
        // Still the same token where the caret is: what came back is for what is typed now.
        if (document.activeElement === textarea && tokenBeforeCaret(textarea) === query) show(textarea, found);
      })
      .catch(() => {});
  }

  document.addEventListener("input", (event) => {
    const textarea = event.target;
    if (textarea instanceof HTMLTextAreaElement && textarea.dataset.mentions) lookUp(textarea);
  });

  // In the capture phase, before flowchat.js's Enter-sends and Escape-cancels: while the list is
  // open those keys are the list's.
  document.addEventListener(
    "keydown",
    (event) => {
      if (!list || event.target !== field || event.isComposing) return;
      const keys = {
        ArrowDown: () => highlight(active + 1),
        ArrowUp: () => highlight(active - 1),
        Enter: () => choose(active),
        Tab: () => choose(active),
        Escape: close,
      };
      if (!(event.key in keys) || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      keys[event.key]();
    },
    true,
  );

  document.addEventListener("focusout", (event) => {
    if (event.target === field) close();
  });
  // The composer is replaced after each send: its list goes with it.
  document.addEventListener("htmx:beforeSwap", close);
})();
